package php

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// maxFrame bounds a message from the runner.
const maxFrame = 256 << 20

// request is one job for the runner.
type request struct {
	Type       string `json:"type"`
	Ref        uint64 `json:"ref"`
	Raw        string `json:"raw"`
	Queue      string `json:"queue"`
	Connection string `json:"connection"`
	Attempts   int    `json:"attempts"`
	JobID      string `json:"job_id"`
	Tries      int    `json:"tries"`
	// failed requests (ThinkPHP runners): why the job is given up; nil means "failed manually".
	Reason *Exception `json:"reason,omitempty"`
}

// message is what the runner writes: ready, then one result per request.
type message struct {
	Type string `json:"type"`
	// ready
	PID     int    `json:"pid"`
	PHP     string `json:"php"`
	Laravel string `json:"laravel"`
	// Framework is the framework's name and version (ThinkPHP runners).
	Framework string `json:"framework"`
	// result
	Ref        uint64     `json:"ref"`
	Status     string     `json:"status"` // deleted, released, failed, none
	Delay      int64      `json:"delay"`
	Exception  *Exception `json:"exception"`
	FailReason *Exception `json:"fail_reason"`
	Attempts   int        `json:"attempts"`
	Memory     int64      `json:"memory"`
	Peak       int64      `json:"peak"`
	Output     string     `json:"output"`
}

// proc is one PHP runner process. One job at a time: the caller serializes run calls.
type proc struct {
	log     *slog.Logger
	cmd     *exec.Cmd
	pid     int
	started time.Time
	req     *os.File // fd 3 of the child, our write end
	msgs    chan message
	readErr error // why msgs closed
	exited  chan struct{}
	waitErr error

	jobs   int
	memory int64
	ref    uint64
	cur    atomic.Value // string: the job id being run, for output lines

	tailMu sync.Mutex
	tail   []byte

	fences [2]chan uint64 // stdout, stderr: the ref of each fence line seen
	copied sync.WaitGroup // the stdout and stderr copiers
}

// fenceWait bounds the wait for the fence lines after a result (a job may have closed STDOUT).
const fenceWait = time.Second

var fenceTok = []byte("\x00qb-fence ")

// startProc starts the runner and waits until it booted the app.
func startProc(ctx context.Context, o Options, runner string) (*proc, error) {
	args := []string{runner, "--app", o.App}
	if o.Boot != "" {
		args = append(args, "--boot", o.Boot)
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("php: %w", err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, fmt.Errorf("php: %w", err)
	}
	p := &proc{log: o.Logger, req: reqW, msgs: make(chan message, 1), exited: make(chan struct{})}
	p.fences = [2]chan uint64{make(chan uint64, 4), make(chan uint64, 4)}
	p.cur.Store("")
	cmd := exec.Command(o.Binary, args...)
	cmd.Dir = o.App
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.ExtraFiles = []*os.File{reqR, respW} // fd 3, fd 4
	var outR, outW, errR, errW *os.File
	if outR, outW, err = os.Pipe(); err == nil {
		if errR, errW, err = os.Pipe(); err != nil {
			outR.Close()
			outW.Close()
		}
	}
	if err != nil {
		reqR.Close()
		reqW.Close()
		respR.Close()
		respW.Close()
		return nil, fmt.Errorf("php: %w", err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	reqR.Close()
	respW.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		reqW.Close()
		respR.Close()
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("php: start %s: %w", o.Binary, err)
	}
	p.cmd, p.pid, p.started = cmd, cmd.Process.Pid, time.Now()
	// The copiers start after pid is set: they log it.
	for i, r := range []*os.File{outR, errR} {
		l := &lineLogger{p: p, stream: [2]string{"stdout", "stderr"}[i], fence: p.fences[i]}
		p.copied.Go(func() {
			defer r.Close()
			_, _ = io.Copy(l, r)
			l.flush()
		})
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	go p.readLoop(respR)

	timer := time.NewTimer(o.StartTimeout)
	defer timer.Stop()
	select {
	case m, ok := <-p.msgs:
		if ok && m.Type == "ready" {
			if m.Framework != "" {
				p.log.Debug("php runner ready", "pid", p.pid, "php", m.PHP, "framework", m.Framework)
			} else {
				p.log.Debug("php runner ready", "pid", p.pid, "php", m.PHP, "laravel", m.Laravel)
			}
			return p, nil
		}
		p.kill()
		if ok {
			return nil, fmt.Errorf("php: runner sent %q before ready", m.Type)
		}
		return nil, fmt.Errorf("php: runner %d did not boot (%s): %s", p.pid, p.status(), p.lastOutput())
	case <-timer.C:
		p.kill()
		return nil, fmt.Errorf("php: runner %d did not boot within %s: %s", p.pid, o.StartTimeout, p.lastOutput())
	case <-ctx.Done():
		p.kill()
		return nil, fmt.Errorf("php: start runner: %w", ctx.Err())
	}
}

func (p *proc) readLoop(r *os.File) {
	defer close(p.msgs)
	defer r.Close()
	var head [4]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			p.readErr = err
			return
		}
		n := binary.BigEndian.Uint32(head[:])
		if n > maxFrame {
			p.readErr = fmt.Errorf("php: frame of %d bytes", n)
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			p.readErr = err
			return
		}
		var m message
		if err := json.Unmarshal(body, &m); err != nil {
			p.readErr = fmt.Errorf("php: bad frame: %w", err)
			return
		}
		p.msgs <- m
	}
}

// run sends the job and waits for its result. A non-nil error means the process is gone (killed on ctx's end,
// or crashed) and must be replaced.
func (p *proc) run(ctx context.Context, job *queue.Job, o Options, typ string, reason error) (message, error) {
	p.ref++
	id := jobLabel(job)
	p.cur.Store(id)
	defer p.cur.Store("")
	body, err := json.Marshal(request{
		Type: typ, Ref: p.ref, Raw: string(job.RawBody()), Queue: job.Queue(), Connection: o.Connection,
		Attempts: max(job.Attempts(), 1), JobID: job.ID(), Tries: o.Tries, Reason: reasonOf(reason),
	})
	if err != nil {
		return message{}, err
	}
	frame := make([]byte, 4+len(body))
	binary.BigEndian.PutUint32(frame, uint32(len(body)))
	copy(frame[4:], body)
	wrote := make(chan error, 1)
	go func() {
		_, err := p.req.Write(frame)
		wrote <- err
	}()
	p.jobs++
	for {
		select {
		case err := <-wrote:
			if err != nil {
				p.kill()
				return message{}, p.crash()
			}
			wrote = nil
		case m, ok := <-p.msgs:
			if !ok {
				p.kill()
				return message{}, p.crash()
			}
			if m.Type != "result" || m.Ref != p.ref {
				p.kill()
				return message{}, fmt.Errorf("php: runner %d answered %q #%d to job #%d", p.pid, m.Type, m.Ref, p.ref)
			}
			p.memory = m.Memory
			p.awaitFences(p.ref)
			if m.Output != "" {
				for _, line := range strings.Split(strings.TrimRight(m.Output, "\n"), "\n") {
					p.log.Info("php job output", "job", id, "pid", p.pid, "stream", "output", "line", line)
				}
			}
			return m, nil
		case <-ctx.Done():
			p.kill()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return message{}, fmt.Errorf("%w (pid %d): %w", ErrTimeout, p.pid, ctx.Err())
			}
			return message{}, fmt.Errorf("php: job stopped, process %d killed: %w", p.pid, ctx.Err())
		}
	}
}

// awaitFences waits until stdout and stderr delivered everything written before the result of job ref.
func (p *proc) awaitFences(ref uint64) {
	timer := time.NewTimer(fenceWait)
	defer timer.Stop()
	for _, ch := range p.fences {
		for waiting := true; waiting; {
			select {
			case got := <-ch:
				waiting = got < ref
			case <-timer.C:
				p.log.Warn("php runner: output fence missing", "pid", p.pid)
				return
			}
		}
	}
}

func (p *proc) crash() error {
	copied := make(chan struct{})
	go func() {
		p.copied.Wait()
		close(copied)
	}()
	deadline := time.After(2 * time.Second)
	for _, ch := range []chan struct{}{p.exited, copied} {
		select {
		case <-ch:
		case <-deadline:
		}
	}
	return &CrashError{PID: p.pid, Status: p.status(), Tail: p.lastOutput()}
}

// dead reports whether the process has ended.
func (p *proc) dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *proc) status() string {
	select {
	case <-p.exited:
		if p.waitErr == nil {
			return "exit status 0"
		}
		return p.waitErr.Error()
	default:
		return "running"
	}
}

// kill ends the process group with SIGKILL and waits (up to 1 s) for the process to be reaped.
func (p *proc) kill() {
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	_ = p.req.Close()
	select {
	case <-p.exited:
	case <-time.After(time.Second):
		p.log.Warn("php runner not reaped 1s after SIGKILL", "pid", p.pid)
	}
}

// stop asks the runner to end (EOF on fd 3) and kills it if it has not within grace.
func (p *proc) stop(grace time.Duration) {
	_ = p.req.Close()
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.kill()
	}
}

// due says why the process should be recycled after a job, or "".
func (p *proc) due(o Options) string {
	switch {
	case o.MaxJobs > 0 && p.jobs >= o.MaxJobs:
		return "max jobs"
	case o.Memory > 0 && p.memory > o.Memory:
		return "memory"
	case o.TTL > 0 && time.Since(p.started) >= o.TTL:
		return "ttl"
	}
	return ""
}

func (p *proc) lastOutput() string {
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	return strings.TrimSpace(string(p.tail))
}

// lineLogger logs what the process writes to stdout or stderr, a line at a time, with the job running then.
type lineLogger struct {
	p      *proc
	stream string
	fence  chan<- uint64
	buf    []byte
}

const tailMax = 2048

func (l *lineLogger) Write(b []byte) (int, error) {
	l.p.tailMu.Lock()
	l.p.tail = append(l.p.tail, b...)
	if len(l.p.tail) > tailMax {
		l.p.tail = append([]byte(nil), l.p.tail[len(l.p.tail)-tailMax:]...)
	}
	l.p.tailMu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 {
		l.emit(l.buf)
		l.buf = nil
	}
	return len(b), nil
}

func (l *lineLogger) flush() {
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}
}

func (l *lineLogger) emit(line []byte) {
	if i := bytes.Index(line, fenceTok); i >= 0 {
		ref, err := strconv.ParseUint(string(line[i+len(fenceTok):]), 10, 64)
		if err == nil {
			if i > 0 {
				l.emit(line[:i])
			}
			select {
			case l.fence <- ref:
			default:
			}
			return
		}
	}
	l.p.log.Info("php job output", "job", l.p.cur.Load().(string), "pid", l.p.pid, "stream", l.stream, "line", string(line))
}

func jobLabel(job *queue.Job) string {
	if job.ID() != "" {
		return job.ID()
	}
	return job.UUID()
}

// applyFailed records the result of a failed request: job failed with reason, and what a hook threw.
func applyFailed(job *queue.Job, m message, reason error) error {
	var thrown error
	if m.Exception != nil {
		thrown = m.Exception
	}
	if reason == nil {
		reason = thrown
	}
	if reason == nil {
		reason = errors.New("php: job failed")
	}
	job.Fail(reason)
	return thrown
}

// apply records the runner's result on job and returns the handler's error.
func apply(job *queue.Job, m message) error {
	var thrown error
	if m.Exception != nil {
		thrown = m.Exception
	}
	switch m.Status {
	case "failed":
		reason := thrown
		if m.FailReason != nil {
			reason = m.FailReason
		}
		job.Fail(reason)
	case "released":
		job.Release(time.Duration(m.Delay) * time.Second)
	case "deleted":
		job.Delete()
	case "none":
		if thrown == nil {
			job.Keep() // the job neither deleted nor released itself: PHP leaves it reserved
		}
	}
	return thrown
}
