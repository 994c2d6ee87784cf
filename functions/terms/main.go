// Command terms is the terms group's Lambda function.
package main

import (
	"github.com/pufinid/pufinid-api/functions/terms/termsapi"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
)

func main() { lambdafn.Start(termsapi.Setup) }
