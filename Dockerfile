# One image for every luo-fleet service; docker-compose.yml picks the app with `command`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/cli/package.json apps/cli/package.json
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY libs libs
COPY apps apps
COPY scripts scripts
COPY test/support test/support
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/apps/cli apps/cli
COPY --from=build /app/dist dist
USER node
CMD ["node", "dist/apps/planner/src/main.js"]
