// hls.js's levels as the `videoRenditions` list media-chrome's quality menu reads
// (the shape of the media-tracks polyfill: indexed renditions, selectedIndex where
// -1 is automatic, and addrendition / removerendition / change events).

export class HlsRenditionList extends EventTarget {
  /**
   * @param {StreamcorePlayer.HlsClass} Hls
   * @param {StreamcorePlayer.Hls} hls
   */
  constructor(Hls, hls) {
    super();
    this.hls = hls;
    /** @type {StreamcorePlayer.Rendition[]} */
    this.items = [];
    hls.on(Hls.Events.MANIFEST_LOADING, () => this.reset([]));
    hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => this.reset(data.levels));
    hls.on(Hls.Events.LEVEL_SWITCHED, () => this.dispatchEvent(new Event("change")));
  }

  get length() {
    return this.items.length;
  }

  [Symbol.iterator]() {
    return this.items[Symbol.iterator]();
  }

  /** The level chosen by hand, or -1 while hls.js picks by bandwidth. */
  get selectedIndex() {
    return this.hls.autoLevelEnabled ? -1 : this.hls.manualLevel;
  }

  set selectedIndex(index) {
    if (index === this.selectedIndex) {
      return;
    }
    if (index < 0) {
      // Back to automatic from the next fragment on, without dropping the buffer.
      this.hls.nextLevel = -1;
    } else {
      this.hls.currentLevel = index;
    }
    this.dispatchEvent(new Event("change"));
  }

  /** @param {StreamcorePlayer.Level[]} levels */
  reset(levels) {
    for (let i = 0; i < this.items.length; i += 1) {
      Reflect.deleteProperty(this, String(i));
    }
    const old = this.items;
    this.items = levels.map((level, i) => ({
      id: String(i),
      width: level.width,
      height: level.height,
      bitrate: level.bitrate,
      codec: level.videoCodec,
    }));
    this.items.forEach((item, i) => Reflect.set(this, String(i), item));
    for (const item of old) {
      this.dispatchEvent(Object.assign(new Event("removerendition"), { rendition: item }));
    }
    for (const item of this.items) {
      this.dispatchEvent(Object.assign(new Event("addrendition"), { rendition: item }));
    }
  }
}
