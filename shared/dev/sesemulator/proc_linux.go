//go:build linux

package sesemulator

import "syscall"

// childAttr puts the emulator in its own process group (so stopping it
// stops npx's children too), and has the kernel end it if this process
// dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
