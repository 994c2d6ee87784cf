//go:build !linux

package lambdarun

import "syscall"

// becomeSubreaperOnce does nothing here: only Linux has child subreapers.
// The emulator runs only on Linux anyway (its tests skip elsewhere); this
// file keeps the package, and the tests that skip, building on macOS.
func becomeSubreaperOnce() {}

// childAttr puts the emulator in its own process group; nothing ends it if
// this process dies (Pdeathsig is Linux's).
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
