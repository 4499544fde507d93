package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/queuebridge/bridge/internal/cli"
	"github.com/queuebridge/bridge/internal/dashboard"
)

// DashboardOptions configure the web dashboard.
type DashboardOptions struct {
	// Token opens a session that may change the queue (retry, forget, pause, push, …): a person types it on
	// the dashboard's login page. Empty: the dashboard is read-only.
	Token string
}

// Dashboard is the web dashboard of this connection: the queues with their jobs by state, the failed store
// (retry, forget, flush), pause and resume, pushing a job, the bridges registered on the connection, and the
// migration report (Report, Routes, a form that calls SetRoute), in English and Simplified Chinese. It serves at the root of its paths; listen on loopback unless it sits
// behind something that authenticates. Writes need o.Token, a same-origin request and the session's CSRF
// token.
func (b *Bridge) Dashboard(o DashboardOptions) (http.Handler, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	return dashboard.New(dashboard.Options{
		Source:   b,
		Jobs:     b,
		Trends:   b,
		Report:   b,
		Token:    o.Token,
		NotFound: func(err error) bool { return errors.Is(err, ErrNoFailedJob) || errors.Is(err, ErrNoJob) },
		Conflict: func(err error) bool { return errors.Is(err, ErrJobReserved) },
		Logger:   b.cfg.Logger,
		Now:      b.cfg.Clock,
	})
}

// serveDashboard runs `bridge dashboard`: the dashboard of the connection s names, on addr, until ctx is done.
func (b *Bridge) serveDashboard(ctx context.Context, s cli.Settings, addr, token string) error {
	c := b.sibling()
	if err := c.Connect(ctx, configOf(s)); err != nil {
		return err
	}
	defer c.Close()
	h, err := c.Dashboard(DashboardOptions{Token: token})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	at, done, err := listenHTTP(ctx, addr, h)
	if err != nil {
		return err
	}
	mode := "read-only (no token)"
	if token != "" {
		mode = "writes need the token"
	}
	s.Logger.Info("serving the dashboard", "url", "http://"+at+"/", "connection", c.Connection(), "mode", mode)
	return <-done
}

// openDashboard connects the dashboard of a config file's dashboard section, on its connection (the only
// one when it names none); the caller closes the returned Bridge.
func (s *Server) openDashboard(ctx context.Context) (*Bridge, error) {
	s.mu.Lock()
	fd := s.cfg.Dashboard
	conns := s.cfg.Connections
	s.mu.Unlock()
	if fd == nil {
		return nil, nil
	}
	conn := conns[fd.Connection]
	if conn == nil {
		return nil, fmt.Errorf("dashboard: no connection %q", fd.Connection)
	}
	cfg := conn.Config(&Config{Logger: s.log.With("dashboard", fd.Connection)})
	b := s.b.sibling()
	if err := b.Connect(ctx, &cfg); err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	h, err := b.Dashboard(DashboardOptions{Token: fd.Token})
	if err != nil {
		b.Close()
		return nil, err
	}
	s.mu.Lock()
	s.dashboard = h
	s.mu.Unlock()
	return b, nil
}
