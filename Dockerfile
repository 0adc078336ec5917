# The controller's container image, as deploy/install.yaml runs it:
#   docker build --build-arg VERSION=v1.2.3 -t ghcr.io/tether-gitops/tether:v1.2.3 .
# A static binary on a distroless base (CA certificates, no shell), run as
# the non-root user 65532 with a read-only root file system; the Git cache
# and temporary files go to the pod's emptyDir volumes.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY deploy/ deploy/
COPY internal/ internal/
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/tether-gitops/tether/internal/version.Version=${VERSION} -X github.com/tether-gitops/tether/internal/version.Commit=${COMMIT}" \
    -o /out/tether ./cmd/tether

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tether /tether
USER 65532:65532
ENTRYPOINT ["/tether"]
