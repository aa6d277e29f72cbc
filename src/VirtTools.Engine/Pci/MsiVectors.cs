using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// The msi_irqs directory of a function: one entry per allocated vector, named by its Linux IRQ. The entry is a
/// file holding "msi" or "msix"; kernels before 3.13 made it a directory with a "mode" file instead.
/// </summary>
internal sealed class MsiVectors
{
    private readonly HashSet<int> _irqs;

    private MsiVectors(HashSet<int> irqs, PciMsiKind kind)
    {
        _irqs = irqs;
        Kind = kind;
    }

    public int Count => _irqs.Count;

    public PciMsiKind Kind { get; }

    public bool Contains(int irq) => _irqs.Contains(irq);

    public static MsiVectors Read(SysfsDirectory device)
    {
        var irqs = new HashSet<int>();
        var kind = PciMsiKind.None;
        foreach (var name in device.EntryNames("msi_irqs"))
        {
            if (SysfsText.ParseInt(name) is not int irq) continue;
            irqs.Add(irq);
            var mode = device.String("msi_irqs/" + name) ?? device.String("msi_irqs/" + name + "/mode");
            if (mode == "msix") kind = PciMsiKind.MsiX;
            else if (kind == PciMsiKind.None) kind = PciMsiKind.Msi;
        }
        return new MsiVectors(irqs, kind);
    }
}
