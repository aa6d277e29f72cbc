namespace VirtTools.Pci;

/// <summary>Which message-signalled interrupts the function's driver has enabled (the kind named in msi_irqs/N).</summary>
public enum PciMsiKind
{
    /// <summary>No msi_irqs: the driver (if any) uses the legacy INTx line, or no interrupts at all.</summary>
    None,
    Msi,
    MsiX,
}
