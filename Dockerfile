# syntax=docker/dockerfile:1
# Switchboard's container image: a static binary on distroless, run as an
# unprivileged user. Build with `docker build -t switchboard .` from the
# repository root. deploy/dockerfile_test.go checks these rules statically
# (the machines that test this project cannot run Docker).

# The Go release matches go.mod's go directive.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go (SQLite is modernc.org/sqlite): a static binary, no libc needed.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/switchboard ./cmd/switchboard

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/switchboard /usr/local/bin/switchboard
# distroless's nonroot user; the Kubernetes manifests also demand it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--config", "/etc/switchboard/config.yaml", "--data-dir", "/var/lib/switchboard"]
