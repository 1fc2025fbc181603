module github.com/switchboard-mcp/switchboard/identity/ssotest

go 1.26.0

replace github.com/switchboard-mcp/switchboard => ../..

require github.com/zitadel/oidc/v3 v3.52.0 // indirect
