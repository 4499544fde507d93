package bridge

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/compat/thinkqueue"
)

// Push writes a job as the PHP library's Queue::push would, so PHP workers can run it too, and returns its
// id (on a database queue, the new row's id). data is encoded with encoding/json and then held as PHP's
// json_decode($json, true) would hold it (see phpValue for json.RawMessage and *phpjson.Map).
func (b *Bridge) Push(ctx context.Context, queueName, job string, data any) (string, error) {
	return b.Later(ctx, 0, queueName, job, data)
}

// Later is Push for a job that becomes visible after delay (Queue::later).
func (b *Bridge) Later(ctx context.Context, delay time.Duration, queueName, job string, data any) (string, error) {
	if err := b.ready(); err != nil {
		return "", err
	}
	if job == "" {
		return "", errors.New("push: empty job name")
	}
	v, err := phpValue(data)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", job, err)
	}
	queueName = cmp.Or(queueName, thinkqueue.DefaultQueue)
	id, now := b.cfg.IDFunc(), b.cfg.Clock()
	payload, err := b.be.format.payload(job, v, pushParams{id: id, now: now, delay: delay, db: b.be.database()})
	if err != nil {
		return "", fmt.Errorf("push %s: %w", job, err)
	}
	return b.enqueue(ctx, queueName, payload, id, now, delay)
}

// phpValue is data as a PHP value: a json.RawMessage is the JSON text PHP's json_encode would have been
// given (objects stay objects), a *phpjson.Map is one already, and anything else goes through
// encoding/json and is then held as json_decode($json, true) holds it.
func phpValue(data any) (any, error) {
	switch v := data.(type) {
	case json.RawMessage:
		return phpjson.Decode(v)
	case *phpjson.Map:
		return v, nil
	}
	return phpjson.FromGo(data)
}

// PushCommand writes a Laravel class-based job, as dispatch(new Cmd) would: cmd describes the PHP object
// (class, properties in serialize() order, Queueable fields) and the payload's limits. Laravel dialects only.
func (b *Bridge) PushCommand(ctx context.Context, queueName string, cmd laravel.Command) (string, error) {
	return b.LaterCommand(ctx, 0, queueName, cmd)
}

// LaterCommand is PushCommand for a job that becomes visible after delay.
func (b *Bridge) LaterCommand(ctx context.Context, delay time.Duration, queueName string, cmd laravel.Command) (string, error) {
	if err := b.ready(); err != nil {
		return "", err
	}
	lf, ok := b.be.format.(laravelFormat)
	if !ok {
		return "", fmt.Errorf("push %s: class-based jobs need a Laravel dialect, not %s", cmd.Class, b.be.format.name())
	}
	queueName = cmp.Or(queueName, laravel.DefaultQueue)
	id, now := b.cfg.IDFunc(), b.cfg.Clock()
	payload, err := lf.d.NewObjectPayload(cmd, pushParams{id: id, now: now, delay: delay, db: b.be.database()}.laravel())
	if err != nil {
		return "", fmt.Errorf("push %s: %w", cmd.Class, err)
	}
	return b.enqueue(ctx, queueName, payload, id, now, delay)
}

// enqueue pushes a payload, or adds it to the delayed set when delay > 0, and returns the job's id: the
// payload's, or on a database queue the new row's.
func (b *Bridge) enqueue(ctx context.Context, queueName string, payload []byte, id string, now time.Time, delay time.Duration) (string, error) {
	if b.be.sync {
		return id, b.runSync(ctx, queueName, payload)
	}
	if jobs := b.be.jobs; jobs != nil {
		row, err := jobs.Insert(ctx, queueName, payload, now.Add(delay))
		if err != nil {
			return "", fmt.Errorf("push onto %s: %w", queueName, err)
		}
		return strconv.FormatInt(row, 10), nil
	}
	var err error
	if delay > 0 {
		err = b.be.store.Later(ctx, queueName, payload, now.Add(delay))
	} else {
		err = b.be.store.Push(ctx, queueName, payload)
	}
	if err != nil {
		return "", fmt.Errorf("push onto %s: %w", queueName, err)
	}
	return id, nil
}
