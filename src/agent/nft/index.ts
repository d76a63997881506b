export { closeNftRunners, NFT_BIN, NftModes, NftRunner, nftRunner, type NftMode, type NftRunnerOptions, type NftRunnerStats, type NftTxResult } from './runner.js';
export { mapErrors, sentinel, SentinelSplitter, toOneLine, type LineError, type OneLine } from './script.js';
