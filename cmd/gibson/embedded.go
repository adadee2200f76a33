package main

import "github.com/gogibson/gogibson/gibsontest"

// startEmbedded starts the embedded server on a unix socket in a temporary directory.
func startEmbedded() (address string, stop func(), err error) {
	s, err := gibsontest.Start()
	if err != nil {
		return "", nil, err
	}
	return s.Addr(), func() { _ = s.Close() }, nil
}
