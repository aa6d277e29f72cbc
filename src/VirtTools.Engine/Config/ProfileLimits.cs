namespace VirtTools.Config;

/// <summary>
/// How much of a host profile is read at all. A profile is a few KB (the captured host's is 1 KB; 100 exports with
/// comments make about 10 KB), and it comes from a file root owns but any typo, copy or editor accident can fill, so
/// every limit leaves tens of times that room and still keeps a hostile file to a moment and a few MB: the agent
/// reloads on SIGHUP and must never be the process that dies of a file.
/// </summary>
public static class ProfileLimits
{
    /// <summary>
    /// 256 KiB: checked on the file's size before it is read, then no more than this (plus one byte) is read. The
    /// slowest file within it, comments up to the limit, parses in about a quarter of a second; 1 MiB of YAML took
    /// 0.2-1.2 s in YamlDotNet alone on the 2-core bench machine (bench/RESULTS.md, profile rows).
    /// </summary>
    public const int MaxBytes = 256 << 10;

    /// <summary>
    /// The schema nests 6 levels (profile, usbip, attachments, an attachment, match, a value). YamlDotNet's model
    /// recurses once per level, and about 40,000 levels overflow the stack, so the parser stops at this depth.
    /// </summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// Every scalar, list and mapping, an alias counting as all its anchor holds: 10,000 is some 1,500 exports.
    /// Aliases nested in aliases grow exponentially (billion laughs), and YamlDotNet's hashing and messages walk what
    /// they expand to, so the count is kept as the events arrive, before anything walks the model.
    /// </summary>
    public const int MaxNodes = 10_000;

    /// <summary>A profile needs no aliases; a few reused matches are all a person writes by hand.</summary>
    public const int MaxAliases = 100;

    /// <summary>
    /// usbip.server.claimPorts: usbip-host's match_busid table holds 16 bus ids (MAX_BUSID in stub_main.c), so no
    /// host can share more reserved ports than that at once; each one also keeps a hub's usbfs node open.
    /// </summary>
    public const int MaxClaimPorts = 16;
}
