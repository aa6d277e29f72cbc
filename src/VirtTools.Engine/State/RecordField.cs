using System.Text.RegularExpressions;

namespace VirtTools.State;

/// <summary>
/// The grammars a record's fields must match before they reach a path (/sys/bus/pci/drivers/&lt;driver&gt;/bind) or a
/// config line (softdep &lt;driver&gt; pre: vfio-pci). Strict on purpose: a newline, a space, a slash or ".." in any of
/// them would let a record file write other paths or other modprobe commands. Each check returns what is wrong, or
/// null when the value is good.
/// </summary>
public static partial class RecordField
{
    /// <summary>A kernel driver name: letters, digits, '_', '-' and '.', not starting with '.' or '-', at most 64.</summary>
    public static string? DriverName(string field, string? value) =>
        Check(field, value, DriverPattern(), "a driver name (letters, digits, '_', '-', '.')");

    /// <summary>A PCI address in the canonical form sysfs uses: 0000:05:06.0.</summary>
    public static string? PciAddress(string field, string? value) =>
        Check(field, value, PciAddressPattern(), "a PCI address (DDDD:BB:DD.F)");

    /// <summary>A 16-bit id as four hex digits: 8086, 46f4.</summary>
    public static string? HexId(string field, string? value) => Check(field, value, HexIdPattern(), "a 16-bit hex id (4 digits)");

    /// <summary>A USB bus id as sysfs names devices: 1-1, 3-2.4.1 (at most 31 characters, the protocol's limit).</summary>
    public static string? UsbBusId(string field, string? value) =>
        value is { Length: > 31 } ? $"{field} '{Printable(value)}' is longer than a USB bus id can be" : Check(field, value, UsbBusIdPattern(), "a USB bus id (1-1, 3-2.4)");

    private static string? Check(string field, string? value, Regex grammar, string what) =>
        value is null ? $"{field} is missing" : grammar.IsMatch(value) ? null : $"{field} '{Printable(value)}' is not {what}";

    /// <summary>The value as an error can show it: control characters escaped so the message stays one honest line.</summary>
    public static string Printable(string value)
    {
        var cut = value.Length > 80 ? value[..80] + "..." : value;
        return string.Concat(cut.Select(c => char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString()));
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\z")]
    private static partial Regex DriverPattern();

    [GeneratedRegex(@"^[0-9a-f]{4}:[0-9a-f]{2}:[01][0-9a-f]\.[0-7]\z")]
    private static partial Regex PciAddressPattern();

    [GeneratedRegex(@"^[0-9a-fA-F]{4}\z")]
    private static partial Regex HexIdPattern();

    [GeneratedRegex(@"^[0-9]{1,3}-[0-9]{1,3}(\.[0-9]{1,3}){0,6}\z")]
    private static partial Regex UsbBusIdPattern();
}
