// Package filecache reads and writes entries of ThinkPHP's File cache store (the cache driver most ThinkPHP
// apps keep), where `php think queue:restart` leaves its restart stamp when the app has no Redis cache. The
// file names and bytes are compat/thinkqueue's; this package only touches the files.
package filecache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/queuebridge/bridge/compat/thinkqueue"
)

// Store is one File cache store: its path option (the directory, e.g. the app's runtime/cache) and its
// prefix option (a subdirectory, "" for none).
type Store struct {
	Dir    string
	Prefix string
	// NowFunc decides whether an entry with an expire has lapsed. Default time.Now.
	NowFunc func() time.Time
}

// Path is the file that holds key.
func (s *Store) Path(key string) string {
	return filepath.Join(s.Dir, filepath.FromSlash(thinkqueue.FileCachePath(key, s.Prefix)))
}

// Get returns the data stored under key; ok is false when there is no such file or it has expired, as the
// driver's get() sees it.
func (s *Store) Get(ctx context.Context, key string) (data []byte, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	p := s.Path(key)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("filecache: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("filecache: %w", err)
	}
	content, err := io.ReadAll(f)
	if err != nil {
		return nil, false, fmt.Errorf("filecache: read %s: %w", p, err)
	}
	data, expire, err := thinkqueue.ParseFileCache(content)
	if err != nil {
		return nil, false, fmt.Errorf("filecache: %s: %w", p, err)
	}
	now := time.Now
	if s.NowFunc != nil {
		now = s.NowFunc
	}
	if thinkqueue.FileCacheExpired(expire, info.ModTime(), now()) {
		return nil, false, nil
	}
	return data, true, nil
}

// Set stores data under key for ever (expire 0), as the driver's set() writes it, but atomically: the file
// is written beside its final name and renamed over it, so a PHP worker never reads half of it. Directories
// are made 0755 and the file 0666, less the umask, as PHP's mkdir and file_put_contents leave them.
func (s *Store) Set(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.Path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("filecache: %w", err)
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return fmt.Errorf("filecache: %w", err)
	}
	tmp := p + ".tmp-" + hex.EncodeToString(suffix[:])
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return fmt.Errorf("filecache: %w", err)
	}
	_, err = f.Write(thinkqueue.FileCacheContent(data, 0))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("filecache: write %s: %w", p, err)
	}
	return nil
}
