// Package soak is the long-lived, stateful, model-based test of the whole
// PufinID API. It owns two things: the driver, which runs many simulated
// clients against one server over plain HTTP, each a seeded random sequence
// of every operation of the contract (../shared/CONTRACT.md), refusals
// included (duplicates, wrong passwords, reused and expired tokens,
// throttled emails, deleted users); and the reference model, a small record
// of what the contract says must then be true (who exists, which password
// works, which access and refresh tokens are live, which terms are
// accepted, which emails were sent and which may or must be), against which
// every answer is checked.
//
// The model is strict where the contract is deterministic (status codes and
// the body fields it names) and tolerant only where the contract leaves a
// choice: an email route may send nothing when an earlier request could
// have spent the address's budget, a login may be throttled once the
// account has had 5 failures in 15 minutes, a token superseded by a newer
// one may or may not still work. Each such choice is written where it is
// made, with the reason.
//
// Clients keep the model of their own users, so they never race on model
// state; a few operations are deliberate races on one shared target
// (parallel signups of one email, parallel uses of one token, parallel
// wrong passwords), whose checks do not depend on the order the server
// serialized them in.
//
// Time: the driver reads the server's clock through Config.Now. When the
// server's clock can be moved (Config.Advance), it stands still between
// moves, so the model knows the server's time to the second and expiry
// (tokens, throttle windows, email budgets) is checked exactly; every
// operation holds a shared lock that a move of the clock takes exclusively,
// so time never moves under a request. Without Advance the clock is real,
// each request's time is known within an interval, and a check whose answer
// depends on where in that interval the server's time fell accepts either.
//
// Emails are read from the local outbox at GET <base>/_aws/ses (and each
// one deleted once read, so the outbox stays small over a long run). With
// fault injection on (Config.Faults), a 503 is tolerated and makes the
// state it may have changed unknown (the user is dropped from the model);
// with it off, a 503 is a failure like any other wrong answer.
//
// Run returns a Report; its Summary is what a run prints. Each client draws
// its random numbers from Config.Seed: with one client a seed replays the
// run request for request (which request of a race won changes no later
// draw); with many, the interleaving differs from run to run, so a
// seed replays the same mix rather than the same requests.
package soak
