package thinkqueue

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strconv"
	"time"
)

// CacheForm is how a ThinkPHP File cache store writes the restart stamp (an integer) after its header.
type CacheForm int

const (
	// CacheSerialized is ThinkPHP 5.0 (think-queue 1.x): serialize(time()), e.g. `i:1795655584;`.
	CacheSerialized CacheForm = iota + 1
	// CachePlain is ThinkPHP 5.1, 6 and 8 (think-queue 2.x, 3.x): a number is written as its decimal string.
	CachePlain
)

// CacheFormOf is the form of the File cache of the framework a dialect name belongs to: thinkqueue-v1 is
// ThinkPHP 5.0, every other name a later line.
func CacheFormOf(dialect string) CacheForm {
	if dialect == nameV1 {
		return CacheSerialized
	}
	return CachePlain
}

// fileCacheHead is the header before the expire digits; the twelve digits, then fileCacheTail, follow.
const (
	fileCacheHead = "<?php\n//"
	fileCacheTail = "\n exit();?>\n"
	fileCacheData = len(fileCacheHead) + 12 + len(fileCacheTail) // 32, where PHP's substr starts the data
)

// FileCachePath is where a File cache store keeps key, relative to its path option: the md5 of the key,
// its first two hex digits a directory (cache_subdir, on by default), under the prefix option as a
// directory of its own when there is one.
func FileCachePath(key, prefix string) string {
	sum := md5.Sum([]byte(key))
	name := hex.EncodeToString(sum[:])
	p := path.Join(name[:2], name[2:]+".php")
	if prefix != "" {
		p = prefix + "/" + p
	}
	return p
}

// FileCacheContent is the file a File cache store writes for data that lives expire seconds (0: for ever;
// whole seconds, because twelve digits of them do not fit a time.Duration).
func FileCacheContent(data []byte, expire int64) []byte {
	b := make([]byte, 0, fileCacheData+len(data))
	b = append(b, fileCacheHead...)
	b = append(b, fmt.Sprintf("%012d", expire)...)
	b = append(b, fileCacheTail...)
	return append(b, data...)
}

// ParseFileCache splits a File cache file into its data and how many seconds it lives after the file's
// modification time (0: for ever). Anything but the header PHP writes is an error.
func ParseFileCache(content []byte) (data []byte, expire int64, err error) {
	if len(content) < fileCacheData || !bytes.HasPrefix(content, []byte(fileCacheHead)) ||
		string(content[fileCacheData-len(fileCacheTail):fileCacheData]) != fileCacheTail {
		return nil, 0, errors.New("thinkqueue: not a ThinkPHP File cache file")
	}
	digits := content[len(fileCacheHead) : len(fileCacheHead)+12]
	if !allDigits(digits) {
		return nil, 0, fmt.Errorf("thinkqueue: File cache expire %q: want 12 digits", digits)
	}
	n, _ := strconv.ParseInt(string(digits), 10, 64) // 12 digits always fit
	return content[fileCacheData:], n, nil
}

// FileCacheExpired reports whether a file modified at mtime that lives expire is gone at now, as the
// driver decides it (whole seconds; expired once now is past mtime+expire).
func FileCacheExpired(expire int64, mtime, now time.Time) bool {
	return expire != 0 && now.Unix() > mtime.Unix()+expire
}

// RestartValue is the data `php think queue:restart` stores for the time t in a File cache of form f.
func (f CacheForm) RestartValue(t time.Time) []byte {
	stamp := strconv.FormatInt(t.Unix(), 10)
	if f == CacheSerialized {
		return []byte("i:" + stamp + ";")
	}
	return []byte(stamp)
}

// ParseRestartValue is the restart stamp (a decimal Unix time, as a Redis cache store holds it) of data
// read from a File cache of form f; any other data is an error.
func (f CacheForm) ParseRestartValue(data []byte) (string, error) {
	digits := data
	if f == CacheSerialized {
		if len(data) < 4 || !bytes.HasPrefix(data, []byte("i:")) || data[len(data)-1] != ';' {
			return "", fmt.Errorf("thinkqueue: restart stamp %q: want serialize()d integer i:<time>;", clip(data))
		}
		digits = data[2 : len(data)-1]
	}
	if len(digits) == 0 || len(digits) > 19 || !allDigits(digits) {
		return "", fmt.Errorf("thinkqueue: restart stamp %q: want a Unix time", clip(data))
	}
	return string(digits), nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// clip keeps an error's quoted input short.
func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
