package main

import (
	"github.com/pufinid/pufinid-api/functions/users/usersapi"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/lambdaenv"
)

func TestMainReadsExactlyTheTemplateEnvironment(t *testing.T) {
	lambdaenv.Check(t, "UsersFunction", usersapi.Setup)
}
