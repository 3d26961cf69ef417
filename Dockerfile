# syntax=docker/dockerfile:1
#
# tfe-admin as a container image, for GitLab CI and other runners that run jobs in images
# (examples/ci/gitlab/.gitlab-ci.yml uses it). Two stages: a static musl build, then the binary
# alone on Alpine with the CA certificates, plus the shell, jq and curl that CI jobs script
# with. The release workflow builds it for linux/amd64 and linux/arm64 and pushes it to the
# GitHub container registry.
#
#   docker build -t tfe-admin .
#   docker run --rm -e TFE_ADDRESS -e TFE_TOKEN -v "$PWD:/work" tfe-admin plan
#
# The Rust version is Cargo.toml's rust-version (a test checks it). Alpine's packages are not
# pinned to versions: Alpine drops old package versions from a branch, which would break the
# build; the branch (3.23) is pinned instead.

FROM rust:1.95-alpine3.23 AS build
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
# Dependencies first, so that a change to the sources alone reuses their layer's cache.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Static: the binary needs no libc at run time (crt-static is musl's default; said anyway).
ENV RUSTFLAGS="-C target-feature=+crt-static"
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin tfe-admin \
    && cp target/release/tfe-admin /usr/local/bin/tfe-admin \
    && /usr/local/bin/tfe-admin --version

FROM alpine:3.23
# ca-certificates: the system roots TLS to TFE is verified against. jq and curl: the CI
# recipes' reports (plan note, drift webhook). No compiler, no cargo.
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates jq curl \
    && addgroup -g 10001 tfe-admin \
    && adduser -D -H -u 10001 -G tfe-admin tfe-admin
COPY --from=build /usr/local/bin/tfe-admin /usr/local/bin/tfe-admin
LABEL org.opencontainers.image.title="tfe-admin" \
      org.opencontainers.image.description="Manage the site-admin settings of a Terraform Enterprise installation as code" \
      org.opencontainers.image.licenses="MPL-2.0"
# Not root; numeric, so that a runtime enforcing runAsNonRoot can check it.
USER 10001:10001
WORKDIR /work
# `docker run IMAGE plan`; GitLab jobs set `entrypoint: [""]` to run their script in a shell.
ENTRYPOINT ["tfe-admin"]
CMD ["--help"]
