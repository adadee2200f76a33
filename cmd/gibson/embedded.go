package main

import "github.com/gogibson/gogibson/gibsontest"

// startEmbedded starts the embedded server with cfg on a unix socket in a temporary
// directory (cfg.UnixSocket must be empty).
func startEmbedded(cfg gibsontest.Config) (address string, stop func(), err error) {
	s, err := gibsontest.Start(gibsontest.WithConfig(cfg))
	if err != nil {
		return "", nil, err
	}
	return s.Addr(), func() { _ = s.Close() }, nil
}
