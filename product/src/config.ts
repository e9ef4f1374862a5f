import { serviceConfig } from '@mart/shared'

// Nothing of its own yet: the shared settings (port 8003) cover the catalogue.
export const ProductConfig = serviceConfig(8003, {})
