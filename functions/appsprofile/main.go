// Command appsprofile is the apps profile group's Lambda function.
package main

import (
	"github.com/pufinid/pufinid-api/functions/appsprofile/appsprofileapi"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
)

func main() { lambdafn.Start(appsprofileapi.Setup) }
