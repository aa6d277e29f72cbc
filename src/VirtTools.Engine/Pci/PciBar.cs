using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// One Base Address Register window of a function as sysfs "resource" lists it: start, inclusive end and the kernel's
/// IORESOURCE_* flags. Lines 0-5 are the BARs (line 6 is the expansion ROM); an unused BAR reads as zeros.
/// </summary>
public sealed record PciBar(int Index, ulong Start, ulong End, ulong Flags)
{
    public const int StandardCount = 6;
    private const ulong IoFlag = 0x100, MemoryFlag = 0x200, PrefetchFlag = 0x2000, Memory64Flag = 0x0010_0000;

    public ulong Size => End - Start + 1;

    public bool IsMemory => (Flags & MemoryFlag) != 0;

    public bool IsIo => (Flags & IoFlag) != 0;

    /// <summary>A 64-bit memory BAR: the guest may (and, when large, must) map it above 4 GiB.</summary>
    public bool Is64Bit => (Flags & Memory64Flag) != 0;

    public bool IsPrefetchable => (Flags & PrefetchFlag) != 0;

    /// <summary>The BARs in use, from "resource" under the root; null when the file is missing.</summary>
    public static IReadOnlyList<PciBar>? Read(SystemRoot root, string resourcePath) =>
        root.ReadText(resourcePath)?.Split('\n').Take(StandardCount).Select(Parse).OfType<PciBar>().Where(b => b.End > b.Start).ToList();

    /// <summary>"BAR2 16G 64-bit prefetchable memory".</summary>
    public override string ToString() =>
        $"BAR{Index} {SizeText(Size)} {(IsIo ? "I/O" : $"{(Is64Bit ? "64-bit" : "32-bit")}{(IsPrefetchable ? " prefetchable" : "")} memory")}";

    public static string SizeText(ulong bytes)
    {
        string[] units = { "", "K", "M", "G", "T" };
        int unit = 0;
        while (unit < units.Length - 1 && bytes >= 1024 && bytes % 1024 == 0) { bytes /= 1024; unit++; }
        return bytes.ToString(CultureInfo.InvariantCulture) + units[unit];
    }

    private static PciBar? Parse(string line, int index)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 3 && Hex(fields[0]) is ulong start && Hex(fields[1]) is ulong end && Hex(fields[2]) is ulong flags
            ? new PciBar(index, start, end, flags) : null;
    }

    internal static ulong? Hex(string text) =>
        ulong.TryParse(text.StartsWith("0x", StringComparison.Ordinal) ? text[2..] : text, NumberStyles.AllowHexSpecifier,
            CultureInfo.InvariantCulture, out var value) ? value : null;
}
