/** The quick reactions offered, as Teams offers them. */
export const QUICK_REACTIONS = ["👍", "❤️", "😆", "😮", "😢", "😡"] as const;

/** A few common emoji for the composer's emoji button. */
export const COMPOSER_EMOJI = ["😀", "😂", "😊", "😍", "🤔", "😎", "😢", "😡", "👍", "👎", "👏", "🙏", "🎉", "❤️", "🔥", "✅"] as const;
