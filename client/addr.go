package client

import (
	"context"

	"github.com/gogibson/gogibson/internal/addr"
	"github.com/gogibson/gogibson/wire"
)

// endpoint is a parsed server address.
type endpoint struct {
	network, address string
	display          string // as the user wrote it, for messages
}

// parseEndpoint accepts unix:///path, /path (or ./path), host:port and tcp://host:port.
func parseEndpoint(s string) (endpoint, error) {
	network, address, err := addr.Parse(s)
	if err != nil {
		return endpoint{}, &wire.Error{Kind: wire.ErrInvalidArgument, Msg: err.Error()}
	}
	return endpoint{network: network, address: address, display: s}, nil
}

// dial opens one connection to ep, bounded by the dial timeout.
func (ep endpoint) dial(ctx context.Context, o *options) (*Conn, error) {
	if o.dialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.dialTimeout)
		defer cancel()
	}
	nc, err := o.dialer(ctx, ep.network, ep.address)
	if err != nil {
		return nil, &wire.Error{Msg: "dial " + ep.display, Err: err}
	}
	return newConn(nc, ep, o), nil
}
