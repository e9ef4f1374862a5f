import { defineConfig } from 'drizzle-kit'

// The platform tables (outbox, inbox) that every service database carries.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/platform-schema.ts',
  out: './drizzle',
})
