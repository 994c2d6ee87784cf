//go:build !linux

package sesemulator

import "syscall"

// childAttr puts the emulator in its own process group; nothing ends it if
// this process dies (Pdeathsig is Linux's), so a killed test run may leave
// it behind on macOS.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
