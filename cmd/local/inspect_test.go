package main

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// -dynamodb-port puts the embedded store on a port of the user's choosing,
// and the log says how to look inside with the AWS CLI; that command's
// endpoint and table answer a plain SDK client, as the CLI is one.
func TestTheEmbeddedStoreCanBeInspected(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, logs := mustStart(t, []string{"-dynamodb-port", strconv.Itoa(port)}, nil)
	var cmd string
	for _, l := range logs.lines(t) {
		if c, ok := l["inspect"].(string); ok {
			cmd = c
		}
	}
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	if !strings.Contains(cmd, "aws dynamodb scan") || !strings.Contains(cmd, "--endpoint-url "+endpoint+" ") || !strings.HasSuffix(cmd, "--table-name "+defaultTable) {
		t.Fatalf("inspect command %q, want an aws dynamodb scan of %s at %s", cmd, defaultTable, endpoint)
	}
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: aws.NewCredentialsCache(staticCreds{})})
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(defaultTable), Limit: aws.Int32(5)})
	if err != nil || len(out.Items) == 0 {
		t.Fatalf("scan as the printed command would: %v, %d items", err, len(out.Items))
	}
}

// staticCreds are the dummy credentials of the printed command.
type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil
}
