package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge/queue"
)

// failedRecord is a failed job as stored in the hash. The payload is kept as text when it is valid UTF-8,
// so an operator can read it with redis-cli, and as base64 otherwise, so no byte of poison input is lost.
type failedRecord struct {
	ID            string    `json:"id"`
	Connection    string    `json:"connection"`
	Queue         string    `json:"queue"`
	Payload       string    `json:"payload"`
	PayloadBase64 []byte    `json:"payload_base64,omitempty"`
	Exception     string    `json:"exception"`
	FailedAt      time.Time `json:"failed_at"`
}

func encodeFailed(job queue.FailedJob) ([]byte, error) {
	rec := failedRecord{
		ID:         job.ID,
		Connection: job.Connection,
		Queue:      job.Queue,
		Exception:  job.Exception,
		FailedAt:   job.FailedAt,
	}
	if utf8.Valid(job.Payload) {
		rec.Payload = string(job.Payload)
	} else {
		rec.PayloadBase64 = job.Payload
	}
	return json.Marshal(rec)
}

func decodeFailed(data string) (queue.FailedJob, error) {
	var rec failedRecord
	if err := json.Unmarshal([]byte(data), &rec); err != nil {
		return queue.FailedJob{}, err
	}
	payload := rec.PayloadBase64
	if payload == nil {
		payload = []byte(rec.Payload)
	}
	return queue.FailedJob{
		ID:         rec.ID,
		Connection: rec.Connection,
		Queue:      rec.Queue,
		Payload:    payload,
		Exception:  rec.Exception,
		FailedAt:   rec.FailedAt,
	}, nil
}

// Fail moves the reserved job r into the failed store as job. job.ID is required; a zero job.FailedAt
// becomes the broker's now. The record is stored before the reservation is removed: a crash in between
// leaves the job both failed and reserved (it is recovered after Expire and fails again, adding a duplicate
// record), never lost. The two steps cannot be one script because on Cluster the failed store and the
// queue live in different hash slots.
func (b *Broker) Fail(ctx context.Context, r queue.Reservation, job queue.FailedJob) error {
	if job.ID == "" {
		return fmt.Errorf("fail %s: the failed job has no ID", r.Queue)
	}
	k, err := b.keys(r.Queue)
	if err != nil {
		return fmt.Errorf("fail %s: %w", r.Queue, err)
	}
	if job.FailedAt.IsZero() {
		job.FailedAt = b.now()
	}
	data, err := encodeFailed(job)
	if err != nil {
		return fmt.Errorf("fail %s: encode record %s: %w", r.Queue, job.ID, err)
	}
	keys := []string{b.failedKey, b.failedIndexKey}
	if err := failScript.Run(ctx, b.client, keys, job.ID, job.FailedAt.UnixMilli(), data).Err(); err != nil {
		return fmt.Errorf("fail %s: store record %s: %w", r.Queue, job.ID, err)
	}
	if err := b.client.ZRem(ctx, k.reserved, r.Member).Err(); err != nil {
		return fmt.Errorf("fail %s: remove reservation: %w", r.Queue, err)
	}
	return nil
}

// Failed returns every failed job, oldest first.
func (b *Broker) Failed(ctx context.Context) ([]queue.FailedJob, error) {
	ids, err := b.client.ZRange(ctx, b.failedIndexKey, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list failed jobs: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	values, err := b.client.HMGet(ctx, b.failedKey, ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("list failed jobs: %w", err)
	}
	jobs := make([]queue.FailedJob, 0, len(values))
	for i, v := range values {
		s, ok := v.(string)
		if !ok {
			continue // forgotten between the two reads
		}
		job, err := decodeFailed(s)
		if err != nil {
			return nil, fmt.Errorf("list failed jobs: decode record %s: %w", ids[i], err)
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

// FailedJob returns the failed job with id, and false when there is none.
func (b *Broker) FailedJob(ctx context.Context, id string) (queue.FailedJob, bool, error) {
	data, err := b.client.HGet(ctx, b.failedKey, id).Result()
	if errors.Is(err, goredis.Nil) {
		return queue.FailedJob{}, false, nil
	}
	if err != nil {
		return queue.FailedJob{}, false, fmt.Errorf("read failed job %s: %w", id, err)
	}
	job, err := decodeFailed(data)
	if err != nil {
		return queue.FailedJob{}, false, fmt.Errorf("read failed job %s: decode record: %w", id, err)
	}
	return job, true, nil
}

// Forget deletes the failed job with id and reports whether it existed.
func (b *Broker) Forget(ctx context.Context, id string) (bool, error) {
	ok, err := forgetScript.Run(ctx, b.client, []string{b.failedKey, b.failedIndexKey}, id).Bool()
	if err != nil {
		return false, fmt.Errorf("forget failed job %s: %w", id, err)
	}
	return ok, nil
}

// Flush deletes every failed job and returns how many there were.
func (b *Broker) Flush(ctx context.Context) (int, error) {
	n, err := flushScript.Run(ctx, b.client, []string{b.failedKey, b.failedIndexKey}).Int()
	if err != nil {
		return 0, fmt.Errorf("flush failed jobs: %w", err)
	}
	return n, nil
}
