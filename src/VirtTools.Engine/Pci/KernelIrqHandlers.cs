using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// The handlers the kernel has registered on each IRQ, by the names drivers gave them ("ehci_hcd:usb3", "eth0",
/// "vfio-intx(0000:05:00.0)"): /sys/kernel/irq/N/actions (kernels since 4.11), else the last column of
/// /proc/interrupts. This, not which functions share an irq number, is what says a line is really shared.
/// </summary>
public sealed class KernelIrqHandlers
{
    private readonly Dictionary<int, string[]> _handlers;

    private KernelIrqHandlers(Dictionary<int, string[]> handlers, string source)
    {
        _handlers = handlers;
        Source = source;
    }

    /// <summary>Where the names were read: "/sys/kernel/irq/N/actions" or "/proc/interrupts".</summary>
    public string Source { get; }

    /// <summary>The handler names on an IRQ, in the kernel's order; empty when no handler is registered.</summary>
    public IReadOnlyList<string> On(int irq) => _handlers.TryGetValue(irq, out var names) ? names : Array.Empty<string>();

    /// <summary>The evidence for one line, as the file that says it.</summary>
    public string EvidenceFor(int irq) =>
        Source == ProcInterrupts ? $"{ProcInterrupts} IRQ {irq}" : $"/sys/kernel/irq/{irq}/actions";

    private const string ProcInterrupts = "/proc/interrupts";

    /// <summary>Reads the root's IRQ handlers; null when the tree has neither source (a capture without them).</summary>
    public static KernelIrqHandlers? Read(SystemRoot root)
    {
        var irqs = root.Directory("/sys/kernel/irq");
        var numbers = irqs.EntryNames();
        if (numbers.Count > 0)
        {
            var handlers = new Dictionary<int, string[]>();
            foreach (var name in numbers)
                if (SysfsText.ParseInt(name) is int irq && root.Exists($"/sys/kernel/irq/{name}/actions"))
                    handlers[irq] = SplitNames(irqs.String(name + "/actions"), ',');
            return new KernelIrqHandlers(handlers, "/sys/kernel/irq");
        }
        return root.ReadText(ProcInterrupts) is { } text ? ParseProcInterrupts(text) : null;
    }

    /// <summary>
    /// "  21:   0   7  IO-APIC  21-fasteoi   ehci_hcd:usb3, eth0": the IRQ, one count per CPU column of the header,
    /// the chip, the hardware IRQ with its trigger, then the handlers joined by ", ". Rows like NMI: are not IRQs.
    /// </summary>
    public static KernelIrqHandlers ParseProcInterrupts(string text)
    {
        var lines = text.Split('\n');
        int cpus = lines.Length > 0 ? lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length : 0;
        var handlers = new Dictionary<int, string[]>();
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || !int.TryParse(line.AsSpan(0, colon).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var irq)) continue;
            var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // Past the counts and the chip: the hardware IRQ, "21-fasteoi" on x86 or "27 Level" on a GIC, then names.
            int at = cpus + 1;
            if (at < fields.Length && !fields[at].Contains('-', StringComparison.Ordinal)) at++;
            at++;
            handlers[irq] = at < fields.Length ? SplitNames(string.Join(' ', fields[at..]), ',') : Array.Empty<string>();
        }
        return new KernelIrqHandlers(handlers, ProcInterrupts);
    }

    private static string[] SplitNames(string? names, char separator) =>
        (names ?? "").Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
