using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// Judges each legacy INTx line from the kernel's own facts: the handlers registered on it (KernelIrqHandlers) and,
/// per function, whether it uses MSI/MSI-X (msi_irqs) and can mask INTx (DisINTx). vfio-pci requests a function's
/// INTx with IRQF_SHARED only when the function can mask INTx itself; otherwise it needs the line exclusively, which
/// fails while another handler is on it. Functions on MSI/MSI-X do not use the line at all.
/// </summary>
public sealed class PciIrqShareReader
{
    private const string Inferred = "inferred from drivers: the tree has no /sys/kernel/irq or /proc/interrupts";

    private readonly PciDeviceReader _devices;

    public PciIrqShareReader(PciDeviceReader devices) => _devices = devices;

    public PciIrqShareReader(SystemRoot root) : this(new PciDeviceReader(root)) { }

    /// <summary>Every INTx line that functions with an interrupt pin are wired to, by IRQ number.</summary>
    public IReadOnlyList<PciIrqShare> GetLines() => Group(_devices.GetDevices(), _devices.Root);

    /// <summary>
    /// The lines of the given functions. A function without an interrupt pin, or whose INTx IRQ is hidden behind
    /// plain MSI (PciDevice.Irq is null), is on no line we can name.
    /// </summary>
    public static IReadOnlyList<PciIrqShare> Group(IEnumerable<PciDevice> devices, SystemRoot root)
    {
        var handlers = KernelIrqHandlers.Read(root);
        return devices.Where(d => d.Irq is not null && d.InterruptPin != PciInterruptPin.None)
            .GroupBy(d => d.Irq!.Value)
            .OrderBy(g => g.Key)
            .Select(g => Judge(g.Key, g.OrderBy(d => d.Address).ToArray(), handlers, root.Path))
            .ToList();
    }

    private static PciIrqShare Judge(int irq, PciDevice[] wired, KernelIrqHandlers? kernel, string root)
    {
        var users = wired.Where(UsesLine).ToArray();
        var handlers = kernel?.On(irq).ToArray() ?? users.Select(u => u.Driver!).ToArray();
        // A function's own handler is on the line only while it uses it; every other handler is someone else's.
        int OthersOn(PciDevice f) => handlers.Length - (UsesLine(f) ? 1 : 0);
        var wouldUseIntx = wired.Where(f => f.MsiKind == PciMsiKind.None && (f.Driver is null || f.IsVfioBound)).ToArray();
        var blocked = wired.Where(f => f.MsiKind == PciMsiKind.None && f.SupportsIntxMasking != true && OthersOn(f) > 0).ToArray();
        return new PciIrqShare
        {
            Irq = irq,
            Handlers = handlers,
            HandlerSource = kernel?.EvidenceFor(irq) ?? Inferred,
            Address = wired.Select(d => d.Address).ToArray(),
            Devices = wired,
            Users = users.Select(d => d.Address).ToArray(),
            MsiFunctions = wired.Where(d => d.MsiKind != PciMsiKind.None).Select(d => d.Address).ToArray(),
            Shared = handlers.Length > 1 || wouldUseIntx.Any(f => OthersOn(f) > 0),
            BlockedAddress = blocked.Select(d => d.Address).ToArray(),
            Reason = Explain(irq, wired, handlers, kernel?.EvidenceFor(irq) ?? Inferred, blocked),
            Root = root,
        };
    }

    /// <summary>A driver has enabled the function and it does not use MSI, so its handler sits on the INTx line.</summary>
    internal static bool UsesLine(PciDevice d) => d.Driver is not null && d.MsiKind == PciMsiKind.None && d.IsEnabled != false;

    private static string Explain(int irq, PciDevice[] wired, string[] handlers, string source, PciDevice[] blocked)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"IRQ {irq}");
        var held = handlers.Length == 0 ? "no handler" : $"handlers {string.Join(", ", handlers)}";
        var functions = string.Join("; ", wired.Select(f => $"{f.Address} {Describe(f)}"));
        var verdict = blocked.Length == 0
            ? "no function here needs the line to itself"
            : $"{string.Join(", ", blocked.Select(b => b.Address))} cannot mask INTx, so vfio-pci would need the line to itself while another handler holds it: let the other function use MSI, unbind it, or move a card to another slot";
        return $"{line} has {held} ({source}); {verdict}. {functions}.";
    }

    private static string Describe(PciDevice d)
    {
        var driver = d.Driver ?? "no driver";
        var interrupts = d.MsiKind switch
        {
            PciMsiKind.MsiX => $"uses MSI-X ({d.MsiVectors} vectors in msi_irqs), not the line",
            PciMsiKind.Msi => $"uses MSI ({d.MsiVectors} vectors in msi_irqs), not the line",
            _ => (UsesLine(d) ? "uses the line" : "would use the line once bound") + ", " + d.SupportsIntxMasking switch
            {
                true => "can mask INTx",
                false => "cannot mask INTx",
                null => "INTx masking unknown",
            },
        };
        return $"[{driver}] {interrupts}";
    }
}
