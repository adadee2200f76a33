package main

import (
	"context"
	"errors"
	"time"
)

// dialOptions are the client options the CLI passes on.
type dialOptions struct {
	timeout      time.Duration
	maxKeySize   int
	maxValueSize int
}

var errNotYet = errors.New("not available in this build yet")

// dialConn opens one client connection.
func dialConn(ctx context.Context, address string, o dialOptions) (conn, error) {
	return nil, errNotYet
}

// startEmbedded starts the embedded server on a temporary unix socket.
func startEmbedded() (address string, stop func(), err error) {
	return "", nil, errNotYet
}
