using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// Groups PCI functions by their legacy INTx IRQ and judges each line for passthrough. vfio-pci requests a
/// function's INTx with IRQF_SHARED only when the function can mask INTx itself; otherwise it needs the line
/// exclusively, which fails while another function's driver holds it. MSI/MSI-X avoid the line altogether.
/// </summary>
public sealed class PciIrqShareReader
{
    private readonly PciDeviceReader _devices;

    public PciIrqShareReader(PciDeviceReader devices) => _devices = devices;

    public PciIrqShareReader(SystemRoot root) : this(new PciDeviceReader(root)) { }

    /// <summary>Every INTx line that functions with an interrupt pin use, by IRQ number.</summary>
    public IReadOnlyList<PciIrqShare> GetLines() => Group(_devices.GetDevices(), _devices.Root.Path);

    /// <summary>
    /// The lines of the given functions. A function without an interrupt pin, or whose INTx IRQ is hidden
    /// behind MSI (PciDevice.Irq is null), is on no line.
    /// </summary>
    public static IReadOnlyList<PciIrqShare> Group(IEnumerable<PciDevice> devices, string root) =>
        devices.Where(d => d.Irq is not null && d.InterruptPin != PciInterruptPin.None)
            .GroupBy(d => d.Irq!.Value)
            .OrderBy(g => g.Key)
            .Select(g => Judge(g.Key, g.OrderBy(d => d.Address, StringComparer.Ordinal).ToArray(), root))
            .ToList();

    private static PciIrqShare Judge(int irq, PciDevice[] sharers, string root)
    {
        var blocked = sharers.Where(s => NeedsExclusiveLine(s) && sharers.Any(o => o != s && HoldsLine(o))).ToArray();
        return new PciIrqShare
        {
            Irq = irq,
            Address = sharers.Select(d => d.Address).ToArray(),
            Devices = sharers,
            BlockedAddress = blocked.Select(d => d.Address).ToArray(),
            Reason = Explain(irq, sharers, blocked),
            Root = root,
        };
    }

    /// <summary>No MSI in use and masking not known to work: vfio-pci would request the INTx line exclusively.</summary>
    private static bool NeedsExclusiveLine(PciDevice d) => d.MsiKind == PciMsiKind.None && d.SupportsIntxMasking != true;

    /// <summary>A driver has enabled the function and it does not use MSI, so its handler sits on the INTx line.</summary>
    private static bool HoldsLine(PciDevice d) => d.Driver is not null && d.MsiKind == PciMsiKind.None && d.IsEnabled != false;

    private static string Explain(int irq, PciDevice[] sharers, PciDevice[] blocked)
    {
        if (sharers.Length == 1) return $"Only {sharers[0].Address} uses IRQ {irq}.";
        var status = string.Join("; ", sharers.Select(s => $"{s.Address} {Describe(s)}"));
        if (blocked.Length == 0)
            return $"IRQ {irq} is shared, but no sharer needs it exclusively: {status}.";
        var holders = string.Join(", ", sharers.Where(HoldsLine).Select(h => $"{h.Address} ({h.Driver})"));
        return $"IRQ {irq} is shared: {string.Join(", ", blocked.Select(b => b.Address))} would need it exclusively for vfio INTx, " +
               $"but {holders} holds it: {status}. Let the other function use MSI, unbind it, or move a card to another slot.";
    }

    private static string Describe(PciDevice d)
    {
        var interrupts = d.MsiKind switch
        {
            PciMsiKind.MsiX => $"uses MSI-X ({d.MsiVectors} vectors)",
            PciMsiKind.Msi => $"uses MSI ({d.MsiVectors} vectors)",
            _ => d.SupportsIntxMasking switch
            {
                true => "can mask INTx",
                false => "cannot mask INTx",
                null => "INTx masking unknown",
            },
        };
        var driver = d.Driver is null ? "no driver" : d.Driver;
        return $"[{driver}] {interrupts}";
    }
}
