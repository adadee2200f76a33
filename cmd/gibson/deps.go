package main

import (
	"context"
	"errors"
	"time"

	"github.com/gogibson/gogibson/wire"
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

// defaultBenchConns is the client's default pool size.
const defaultBenchConns = 2

// benchCall sends one request and returns its reply code.
type benchCall func(ctx context.Context, op wire.Opcode, args [][]byte) (wire.Code, error)

// benchCaller opens the client the bench drives.
func (a *app) benchCaller(ctx context.Context, cfg benchConfig) (benchCall, func(), error) {
	return nil, nil, errNotYet
}
