//go:build !linux

package main

func holdSockets(string) {}
