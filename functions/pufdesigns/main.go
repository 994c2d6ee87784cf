// Command pufdesigns is the PUF designs group's Lambda function.
package main

import (
	"github.com/pufinid/pufinid-api/functions/pufdesigns/pufdesignsapi"
	"github.com/pufinid/pufinid-api/shared/lambdafn"
)

func main() { lambdafn.Start(pufdesignsapi.Setup) }
