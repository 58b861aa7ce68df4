# spotguard image: Node.js 24 runs the TypeScript sources directly (type stripping).
FROM node:24-slim
WORKDIR /opt/spotguard
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY cli ./cli
COPY core ./core
COPY agent ./agent
COPY controller ./controller
COPY test/simulators ./test/simulators
USER 65532
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "/opt/spotguard/cli/main.ts"]
