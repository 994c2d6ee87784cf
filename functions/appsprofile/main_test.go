package main

import (
	"github.com/pufinid/pufinid-api/functions/appsprofile/appsprofileapi"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/lambdaenv"
)

func TestMainReadsExactlyTheTemplateEnvironment(t *testing.T) {
	lambdaenv.Check(t, "AppsProfileFunction", appsprofileapi.Setup)
}
