using System.Globalization;

namespace VirtTools.Usb;

/// <summary>
/// A device node given to a container: its path under /dev (the same on the host and inside the container, as
/// <c>lxc-device add</c> makes it) and the number the device cgroup rule names. The number is kept because the host's
/// node may be gone by the time the node is taken back (the device unplugged), and a rule is about numbers.
/// </summary>
public sealed record DeviceNode(string Path, bool IsBlock, int Major, int Minor)
{
    /// <summary>"b 8:0" or "c 189:130", as the device cgroup writes a rule.</summary>
    public string Rule => string.Create(CultureInfo.InvariantCulture, $"{(IsBlock ? 'b' : 'c')} {Major}:{Minor}");

    /// <summary>"node /dev/sda b 8 0": the line the attach record keeps it as.</summary>
    public string ToRecordLine() => string.Create(CultureInfo.InvariantCulture, $"node {Path} {(IsBlock ? 'b' : 'c')} {Major} {Minor}");

    /// <summary>The node in a record line's fields after "node"; null when they are not a /dev path, a type and two numbers.</summary>
    public static DeviceNode? Parse(IReadOnlyList<string> fields)
    {
        if (fields.Count != 4 || !IsDevicePath(fields[0]) || fields[1] is not ("b" or "c")) return null;
        if (!int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !int.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)) return null;
        return new DeviceNode(fields[0], fields[1] == "b", major, minor);
    }

    /// <summary>
    /// A path below /dev with no "." or ".." step and no character that a record line or lxc-device could read
    /// otherwise: only such paths are handed to the container manager, which creates them inside the container.
    /// </summary>
    public static bool IsDevicePath(string path) =>
        path.Length is > 5 and <= 255 && path.StartsWith("/dev/", StringComparison.Ordinal)
        && path[5..].Split('/').All(step => step.Length > 0 && step is not ("." or "..")
            && step.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':'));
}
