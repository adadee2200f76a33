package main

import "errors"

// startEmbedded starts the embedded server on a unix socket in a temporary directory.
func startEmbedded() (address string, stop func(), err error) {
	return "", nil, errors.New("the embedded server is not available in this build yet")
}
