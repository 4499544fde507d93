package php

import (
	"bufio"
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
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// maxFrame bounds a message from the runner.
const maxFrame = 256 << 20

// keptBuffer is the largest request or result buffer a process keeps for the next job; a larger one (a big
// payload, a job that echoed a lot) is dropped after its job.
const keptBuffer = 1 << 20

// request is the head of a job request. The frame's body is this JSON, a newline, then the payload as reserved:
// raw bytes, which neither side escapes nor decodes as JSON.
type request struct {
	Type       string `json:"type"`
	Ref        uint64 `json:"ref"`
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
	Memory     int64      `json:"memory"` // memory_get_usage(true) after the job
	Output     string     `json:"output"`
}

// proc is one PHP runner process. One job at a time: the caller serializes run calls. The frames go both ways
// on the calling goroutine (no goroutine or channel per job); a context's end interrupts them through the
// pipes' deadlines.
type proc struct {
	log     *slog.Logger
	cmd     *exec.Cmd
	pid     int
	started time.Time
	boot    time.Duration // from start to ready
	req     *os.File      // fd 3 of the child, our write end
	respF   *os.File      // fd 4 of the child, our read end
	resp    *bufio.Reader // on respF
	exited  chan struct{}
	waitErr error

	jobs     int
	firstJob time.Time
	memory   int64
	ref      uint64
	wbuf     bytes.Buffer
	enc      *json.Encoder // into wbuf
	rbuf     []byte

	out    [2]*stream // stdout, stderr
	copied sync.WaitGroup

	tailMu sync.Mutex
	tail   []byte
}

// startProc starts the runner and waits until it booted the app (within o.StartTimeout, or until ctx ends).
func startProc(ctx context.Context, o Options, runner string) (*proc, error) {
	args := []string{runner, "--app", o.App}
	if o.Boot != "" {
		args = append(args, "--boot", o.Boot)
	}
	var pipes [4][2]*os.File // request, response, stdout, stderr: read end, write end
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			for _, pp := range pipes[:i] {
				pp[0].Close()
				pp[1].Close()
			}
			return nil, fmt.Errorf("php: %w", err)
		}
		pipes[i] = [2]*os.File{r, w}
	}
	cmd := exec.Command(o.Binary, args...)
	cmd.Dir = o.App
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.ExtraFiles = []*os.File{pipes[0][0], pipes[1][1]} // fd 3, fd 4
	cmd.Stdout, cmd.Stderr = pipes[2][1], pipes[3][1]
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	err := cmd.Start()
	for _, f := range []*os.File{pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1]} {
		f.Close()
	}
	if err != nil {
		for _, f := range []*os.File{pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0]} {
			f.Close()
		}
		return nil, fmt.Errorf("php: start %s: %w", o.Binary, err)
	}
	p := &proc{log: o.Logger, cmd: cmd, pid: cmd.Process.Pid, started: start, req: pipes[0][1],
		respF: pipes[1][0], resp: bufio.NewReaderSize(pipes[1][0], 16<<10), exited: make(chan struct{})}
	p.enc = json.NewEncoder(&p.wbuf)
	p.enc.SetEscapeHTML(false)
	for i, name := range [2]string{"stdout", "stderr"} {
		s, err := newStream(p, name, pipes[2+i][0])
		if err != nil {
			p.kill()
			return nil, err
		}
		p.out[i] = s
		p.copied.Go(s.copy)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()

	bootCtx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	m, ioErr, ctxErr := p.exchange(bootCtx, nil)
	switch {
	case ctxErr != nil:
		p.kill()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("php: start runner: %w", ctx.Err())
		}
		return nil, fmt.Errorf("php: runner %d did not boot within %s: %s", p.pid, o.StartTimeout, p.lastOutput())
	case ioErr != nil:
		p.kill()
		p.awaitEnd()
		return nil, fmt.Errorf("php: runner %d did not boot (%s): %s", p.pid, p.status(), p.lastOutput())
	case m.Type != "ready":
		p.kill()
		return nil, fmt.Errorf("php: runner sent %q before ready", m.Type)
	}
	p.boot = time.Since(start)
	if m.Framework != "" {
		p.log.Debug("php runner ready", "pid", p.pid, "php", m.PHP, "framework", m.Framework, "boot", p.boot)
	} else {
		p.log.Debug("php runner ready", "pid", p.pid, "php", m.PHP, "laravel", m.Laravel, "boot", p.boot)
	}
	return p, nil
}

// exchange writes frame (none for the ready message) and reads the runner's next message. ioErr is a broken
// pipe or a bad frame: the process is gone or unusable. ctxErr is ctx's end, which interrupted the exchange
// or came before it finished; the process must then be killed, since it may still be running the job.
func (p *proc) exchange(ctx context.Context, frame []byte) (m message, ioErr, ctxErr error) {
	stop := context.AfterFunc(ctx, func() {
		past := time.Unix(1, 0)
		_ = p.req.SetWriteDeadline(past)
		_ = p.respF.SetReadDeadline(past)
	})
	if frame != nil {
		_, ioErr = p.req.Write(frame)
	}
	if ioErr == nil {
		m, ioErr = p.readMessage()
	}
	if !stop() {
		return message{}, nil, ctx.Err()
	}
	return m, ioErr, nil
}

func (p *proc) readMessage() (message, error) {
	var head [4]byte
	if _, err := io.ReadFull(p.resp, head[:]); err != nil {
		return message{}, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > maxFrame {
		return message{}, fmt.Errorf("php: frame of %d bytes", n)
	}
	var body []byte
	switch {
	case int(n) <= cap(p.rbuf):
		body = p.rbuf[:n]
	case n <= keptBuffer:
		p.rbuf = make([]byte, n)
		body = p.rbuf
	default:
		body = make([]byte, n)
	}
	if _, err := io.ReadFull(p.resp, body); err != nil {
		return message{}, err
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return message{}, fmt.Errorf("php: bad frame: %w", err)
	}
	return m, nil
}

// request frames a request for job: the length, the head, a newline, the payload.
func (p *proc) request(job *queue.Job, o Options, typ string, reason error) ([]byte, error) {
	p.wbuf.Reset()
	p.wbuf.Write([]byte{0, 0, 0, 0})
	err := p.enc.Encode(request{ // Encode ends the head with the newline
		Type: typ, Ref: p.ref, Queue: job.Queue(), Connection: o.Connection, Attempts: max(job.Attempts(), 1),
		JobID: job.ID(), Tries: o.Tries, Reason: reasonOf(reason),
	})
	if err != nil {
		return nil, fmt.Errorf("php: request: %w", err)
	}
	p.wbuf.Write(job.RawBody())
	frame := p.wbuf.Bytes()
	if len(frame)-4 > maxFrame {
		return nil, fmt.Errorf("php: job of %d bytes", len(frame)-4)
	}
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	return frame, nil
}

// run sends the job and waits for its result. A non-nil error means the process is gone (killed on ctx's end,
// or crashed) and must be replaced.
func (p *proc) run(ctx context.Context, job *queue.Job, o Options, typ string, reason error) (message, error) {
	p.ref++
	frame, err := p.request(job, o, typ, reason)
	if err != nil {
		return message{}, err
	}
	if p.jobs == 0 {
		p.firstJob = time.Now()
	}
	p.jobs++
	id := jobLabel(job)
	for _, s := range p.out {
		s.begin(id)
	}
	m, ioErr, ctxErr := p.exchange(ctx, frame)
	if p.wbuf.Cap() > keptBuffer {
		p.wbuf = bytes.Buffer{} // p.enc writes to p.wbuf, which stays where it is
	}
	switch {
	case ctxErr != nil:
		p.kill()
		p.endOutput()
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return message{}, fmt.Errorf("%w (pid %d): %w", ErrTimeout, p.pid, ctxErr)
		}
		return message{}, fmt.Errorf("php: job stopped, process %d killed: %w", p.pid, ctxErr)
	case ioErr != nil:
		p.kill()
		return message{}, p.crash()
	}
	p.endOutput()
	if m.Type != "result" || m.Ref != p.ref {
		p.kill()
		return message{}, fmt.Errorf("php: runner %d answered %q #%d to job #%d", p.pid, m.Type, m.Ref, p.ref)
	}
	p.memory = m.Memory
	if m.Output != "" {
		for _, line := range strings.Split(strings.TrimRight(m.Output, "\n"), "\n") {
			p.log.Info("php job output", "job", id, "pid", p.pid, "stream", "output", "line", line)
		}
	}
	return m, nil
}

// endOutput logs what the job wrote to stdout and stderr that the copiers have not read yet, under the job.
func (p *proc) endOutput() {
	for _, s := range p.out {
		s.end()
	}
}

// awaitEnd waits (up to 2 s) for the process to end and for its stdout and stderr to reach EOF.
func (p *proc) awaitEnd() {
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
}

func (p *proc) crash() error {
	p.awaitEnd()
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
	_ = p.respF.Close()
}

// stop asks the runner to end (EOF on fd 3) and kills it if it has not within grace.
func (p *proc) stop(grace time.Duration) {
	_ = p.req.Close()
	select {
	case <-p.exited:
		_ = p.respF.Close()
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

const tailMax = 2048

func (p *proc) addTail(b []byte) {
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	p.tail = append(p.tail, b...)
	if len(p.tail) > tailMax {
		p.tail = append([]byte(nil), p.tail[len(p.tail)-tailMax:]...)
	}
}

func (p *proc) lastOutput() string {
	p.tailMu.Lock()
	defer p.tailMu.Unlock()
	return strings.TrimSpace(string(p.tail))
}

// stream is the process's stdout or stderr, logged a line at a time under the job running then. Its bytes are
// read under mu: by its copier while the job runs (so a job that writes a lot never blocks), and by end once
// the runner answered. The runner answers after all the job wrote, so what end reads until the pipe is empty
// is the rest of the job's output, and a job that wrote nothing costs end one read.
type stream struct {
	p    *proc
	name string
	f    *os.File
	rc   syscall.RawConn

	mu   sync.Mutex
	job  string // whose output this is; "" between jobs
	buf  []byte // read buffer
	line []byte // the start of a line not ended yet
}

// maxLine is where a line without an end is logged anyway.
const maxLine = 64 << 10

func newStream(p *proc, name string, f *os.File) (*stream, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("php: %s: %w", name, err)
	}
	return &stream{p: p, name: name, f: f, rc: rc, buf: make([]byte, 32<<10)}, nil
}

// copy reads the stream until EOF.
func (s *stream) copy() {
	defer s.f.Close()
	for {
		var n int
		var err error
		rerr := s.rc.Read(func(fd uintptr) bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			n, err = syscall.Read(int(fd), s.buf)
			if err == syscall.EAGAIN {
				return false // wait until readable
			}
			if n > 0 {
				s.write(s.buf[:n])
			}
			return true
		})
		if err == syscall.EINTR {
			continue
		}
		if rerr != nil || err != nil || n <= 0 {
			s.mu.Lock()
			s.flush()
			s.mu.Unlock()
			return
		}
	}
}

func (s *stream) begin(job string) {
	s.mu.Lock()
	s.job = job
	s.mu.Unlock()
}

// end logs what is left in the pipe and the line not ended yet under the job, and closes the job's output.
func (s *stream) end() {
	_ = s.rc.Control(func(fd uintptr) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for {
			n, err := syscall.Read(int(fd), s.buf)
			if err == syscall.EINTR {
				continue
			}
			if n <= 0 {
				break
			}
			s.write(s.buf[:n])
		}
	})
	s.mu.Lock()
	s.flush()
	s.job = ""
	s.mu.Unlock()
}

// write logs the complete lines of b and keeps the rest; s.mu is held.
func (s *stream) write(b []byte) {
	s.p.addTail(b)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		if len(s.line) > 0 {
			s.line = append(s.line, b[:i]...)
			s.emit(s.line)
			s.line = s.line[:0]
		} else {
			s.emit(b[:i])
		}
		b = b[i+1:]
	}
	s.line = append(s.line, b...)
	if len(s.line) > maxLine {
		s.flush()
	}
}

// flush logs the line not ended yet; s.mu is held.
func (s *stream) flush() {
	if len(s.line) > 0 {
		s.emit(s.line)
		s.line = s.line[:0]
	}
}

func (s *stream) emit(line []byte) {
	s.p.log.Info("php job output", "job", s.job, "pid", s.p.pid, "stream", s.name, "line", string(line))
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
