import type { Api, PlatformHelpers } from '../../shared/contract';

declare global {
  interface Window {
    api: Api;
    platform: PlatformHelpers;
  }
}
