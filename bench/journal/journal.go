// Package journal is the benchmarks' bare durable floor: an append-only file with a
// group-committed fdatasync. The baseline server (bench/baseline) and the event log's
// benchmark (bench/eventlog) measure against it.
package journal

import (
	"errors"
	"fmt"
	"os"
)

// ErrClosed is returned by Journal.Append after Close.
var ErrClosed = errors.New("journal: closed")

// appendReq is one caller's lines waiting for the next group commit.
type appendReq struct {
	lines []byte
	done  chan error
}

// Journal is an append-only file with group-committed fdatasync: one writer
// goroutine takes every pending request, writes them with one write, syncs
// once and then releases all their callers. Requests that arrive while a sync
// runs queue in the channel and form the next batch, so there is no timer.
type Journal struct {
	f     *os.File
	reqs  chan *appendReq
	quit  chan struct{}
	ended chan struct{}
}

// Open opens (creating if needed) the file at path for appending and
// starts its writer. It returns an error if the file cannot be opened.
func Open(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	j := &Journal{
		f:     f,
		reqs:  make(chan *appendReq, 4096),
		quit:  make(chan struct{}),
		ended: make(chan struct{}),
	}
	go j.run()
	return j, nil
}

// Append writes lines (one or more newline-terminated records) and returns
// once they are on stable storage. It returns the write or sync error of the
// batch that carried them, or ErrClosed if the journal is closed.
func (j *Journal) Append(lines []byte) error {
	select {
	case <-j.quit:
		return ErrClosed
	default:
	}
	r := &appendReq{lines: lines, done: make(chan error, 1)}
	select {
	case j.reqs <- r:
	case <-j.quit:
		return ErrClosed
	}
	return <-r.done
}

// Close commits what is already queued and closes the file. Callers must have
// stopped appending (the HTTP server is shut down first). It returns the error
// of closing the file.
func (j *Journal) Close() error {
	close(j.quit)
	<-j.ended
	return j.f.Close()
}

func (j *Journal) run() {
	defer close(j.ended)
	var batch []*appendReq
	var buf []byte
	for {
		batch = batch[:0]
		select {
		case r := <-j.reqs:
			batch = append(batch, r)
		case <-j.quit:
			j.drain()
			return
		}
		// Take everything that queued up while the previous sync ran.
	collect:
		for {
			select {
			case r := <-j.reqs:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		buf = buf[:0]
		for _, r := range batch {
			buf = append(buf, r.lines...)
		}
		err := j.commit(buf)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// drain commits requests that were queued before Close and fails none of them.
func (j *Journal) drain() {
	for {
		select {
		case r := <-j.reqs:
			r.done <- j.commit(r.lines)
		default:
			return
		}
	}
}

func (j *Journal) commit(buf []byte) error {
	if _, err := j.f.Write(buf); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := datasync(j.f); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	return nil
}
