// Package msgqueue is the message-queue example: a classic System V
// client/server pair in C (c/server.c, c/client.c, and their protocol in
// c/msgqueue.h), where the server answers each request on the same queue
// with mtype = the client's pid, and the test that holds every server and
// client to the C pair's output byte for byte (see README.md). The Go ports
// of the two halves, ./server and ./client, with the protocol's structs in
// ./proto, are rows of the test's tables; the package itself has no code.
package msgqueue
