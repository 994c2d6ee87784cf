//go:build linux

package lambdarun

import "syscall"

// becomeSubreaper makes this process the reaper of its orphaned
// descendants. Close kills the emulator, which leaves the bootstrap it
// started an orphan; without this, that orphan would go to PID 1, which in
// a container may never reap it, leaving a zombie per run.
func becomeSubreaperOnce() {
	const prSetChildSubreaper = 36
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// childAttr puts the emulator in its own process group, and has the kernel
// end it if this process dies; the bootstrap then loses its Runtime API
// and exits by itself.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
