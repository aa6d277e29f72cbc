namespace VirtTools.Pci;

/// <summary>The legacy interrupt pin a function uses (config space byte 0x3D): none, or INTA# to INTD#.</summary>
public enum PciInterruptPin
{
    None = 0,
    A = 1,
    B = 2,
    C = 3,
    D = 4,
}
