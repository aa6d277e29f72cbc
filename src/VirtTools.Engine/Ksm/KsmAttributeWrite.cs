namespace VirtTools.Ksm;

/// <summary>One validated write to a KSM attribute: which file, what value, and a line a person can confirm.</summary>
public sealed record KsmAttributeWrite(string Attribute, string Value, string Description)
{
    public string SystemPath => KsmReader.KsmDirectory + "/" + Attribute;
}
