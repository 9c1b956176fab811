# ruleeval container image: Debian 12 slim, built from this repository with the same
# tools/package.sh that CI tests, and installed from the resulting .deb.
#   docker build -t ruleeval .
#   docker run -v $PWD/ruleeval.yaml:/etc/ruleeval/ruleeval.yaml -p 9095:9095 ruleeval
FROM debian:12-slim AS build
WORKDIR /src
COPY . .
RUN tools/bootstrap.sh && tools/package.sh > /tmp/deb-path

FROM debian:12-slim
COPY --from=build /src/dist/ /tmp/dist/
# curl serves the HEALTHCHECK; the package creates the ruleeval user and /var/lib/ruleeval.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl /tmp/dist/ruleeval_*.deb \
 && rm -rf /tmp/dist /var/lib/apt/lists/*
USER ruleeval
VOLUME /var/lib/ruleeval
EXPOSE 9095
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["curl", "-fsS", "http://127.0.0.1:9095/-/healthy"]
ENTRYPOINT ["/usr/bin/ruleeval", "run", "--config", "/etc/ruleeval/ruleeval.yaml", \
            "--state-dir", "/var/lib/ruleeval", "--listen-address", ":9095"]
