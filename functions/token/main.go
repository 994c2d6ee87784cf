// Command token is the token group's Lambda function.
package main

import (
	"github.com/pufinid/pufinid-api/functions/token/tokenapi"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
)

func main() { lambdafn.Start(tokenapi.Setup) }
