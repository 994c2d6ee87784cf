package apitest

import (
	"github.com/aws/smithy-go/middleware"

	"github.com/pufinid/pufinid-api/shared/config"
	"github.com/pufinid/pufinid-api/shared/mailer"
	"github.com/pufinid/pufinid-api/shared/token"
)

// FunctionEnv is the environment a group's Setup gets to run on this
// Env's table, as the local server gives it: the embedded store, the test
// signing keys, the test clock, this Env's checks, faults and meter
// (Requests and Meter count the function's calls too), and email sent to mail.
// values add or override variables (the email links, say).
func (e *Env) FunctionEnv(mail mailer.Mailer, values map[string]string) config.Env {
	vars := map[string]string{
		config.EnvTable:            e.Store.Table(),
		config.EnvDynamoDBEndpoint: e.DB.URL,
	}
	for k, v := range values {
		vars[k] = v
	}
	e.keysOnce.Do(func() {
		if err := PublishKeys(e.Inspect, SigningKeys); err != nil {
			e.TB.Fatal(err)
		}
	})
	return config.Env{
		Getenv: func(name string) string { return vars[name] },
		Log:    e.Log, Now: e.Clock.Now, Mailer: mail, SigningKeys: token.StaticKeys(SigningKeys),
		DynamoDBMiddleware: append([]func(*middleware.Stack) error(nil), e.apiOptions...),
	}
}
