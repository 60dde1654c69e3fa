// Package localrun starts and stops the local stand-ins for AWS that the
// tests, the demo and the invoke programs run against: moto_server, and the
// Lambda Runtime Interface Emulator running a function's bootstrap. Proxy,
// a reverse proxy in front of moto, records the AWS operation of every
// request, as Operation names it.
//
// Every process it starts runs in its own process group, which Close kills
// as a whole. On Linux the processes also receive SIGKILL when the program
// that started them dies, so an interrupted test leaves nothing behind.
package localrun
