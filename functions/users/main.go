// Command users is the users group's Lambda function.
package main

import (
	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
)

func main() { lambdafn.Start(usersapi.Setup) }
