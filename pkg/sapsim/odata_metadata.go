package sapsim

// builtinMetadata is the EDMX served on $metadata when
// ODataOptions.MetadataFile is empty. It declares only the entity types,
// properties and navigation properties that sfsap reads or writes, with
// the names and lengths of the real service, so it is a small subset of
// SAP's metadata.
const builtinMetadata = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata" xmlns:sap="http://www.sap.com/Protocols/SAPData">
 <edmx:DataServices m:DataServiceVersion="2.0">
  <Schema Namespace="API_BUSINESS_PARTNER" xml:lang="en" sap:schema-version="1" xmlns="http://schemas.microsoft.com/ado/2008/09/edm">
   <EntityType Name="A_BusinessPartnerType" sap:content-version="1">
    <Key><PropertyRef Name="BusinessPartner"/></Key>
    <Property Name="BusinessPartner" Type="Edm.String" Nullable="false" MaxLength="10" sap:display-format="UpperCase"/>
    <Property Name="Customer" Type="Edm.String" MaxLength="10" sap:display-format="UpperCase" sap:creatable="false" sap:updatable="false"/>
    <Property Name="BusinessPartnerCategory" Type="Edm.String" MaxLength="1" sap:display-format="UpperCase"/>
    <Property Name="BusinessPartnerGrouping" Type="Edm.String" MaxLength="4" sap:display-format="UpperCase"/>
    <Property Name="BusinessPartnerFullName" Type="Edm.String" MaxLength="81" sap:creatable="false" sap:updatable="false"/>
    <Property Name="OrganizationBPName1" Type="Edm.String" MaxLength="40"/>
    <Property Name="OrganizationBPName2" Type="Edm.String" MaxLength="40"/>
    <Property Name="OrganizationBPName3" Type="Edm.String" MaxLength="40"/>
    <Property Name="OrganizationBPName4" Type="Edm.String" MaxLength="40"/>
    <Property Name="FirstName" Type="Edm.String" MaxLength="40"/>
    <Property Name="LastName" Type="Edm.String" MaxLength="40"/>
    <Property Name="SearchTerm1" Type="Edm.String" MaxLength="20" sap:display-format="UpperCase"/>
    <Property Name="BusinessPartnerIDByExtSystem" Type="Edm.String" MaxLength="20" sap:display-format="UpperCase" sap:label="External BP Number"/>
    <NavigationProperty Name="to_BusinessPartnerAddress" Relationship="API_BUSINESS_PARTNER.assoc_Partner_Address" FromRole="FromRole_assoc_Partner_Address" ToRole="ToRole_assoc_Partner_Address"/>
    <NavigationProperty Name="to_BusinessPartnerRole" Relationship="API_BUSINESS_PARTNER.assoc_Partner_Role" FromRole="FromRole_assoc_Partner_Role" ToRole="ToRole_assoc_Partner_Role"/>
    <NavigationProperty Name="to_Customer" Relationship="API_BUSINESS_PARTNER.assoc_Partner_Customer" FromRole="FromRole_assoc_Partner_Customer" ToRole="ToRole_assoc_Partner_Customer"/>
   </EntityType>
   <EntityType Name="A_BusinessPartnerAddressType" sap:content-version="1">
    <Key><PropertyRef Name="BusinessPartner"/><PropertyRef Name="AddressID"/></Key>
    <Property Name="BusinessPartner" Type="Edm.String" Nullable="false" MaxLength="10" sap:display-format="UpperCase"/>
    <Property Name="AddressID" Type="Edm.String" Nullable="false" MaxLength="10" sap:display-format="UpperCase"/>
    <Property Name="CityName" Type="Edm.String" MaxLength="40"/>
    <Property Name="Country" Type="Edm.String" MaxLength="3" sap:display-format="UpperCase"/>
    <Property Name="HouseNumber" Type="Edm.String" MaxLength="10"/>
    <Property Name="Language" Type="Edm.String" MaxLength="2"/>
    <Property Name="PostalCode" Type="Edm.String" MaxLength="10" sap:display-format="UpperCase"/>
    <Property Name="Region" Type="Edm.String" MaxLength="3" sap:display-format="UpperCase"/>
    <Property Name="StreetName" Type="Edm.String" MaxLength="60"/>
    <NavigationProperty Name="to_EmailAddress" Relationship="API_BUSINESS_PARTNER.assoc_Address_Email" FromRole="FromRole_assoc_Address_Email" ToRole="ToRole_assoc_Address_Email"/>
    <NavigationProperty Name="to_FaxNumber" Relationship="API_BUSINESS_PARTNER.assoc_Address_Fax" FromRole="FromRole_assoc_Address_Fax" ToRole="ToRole_assoc_Address_Fax"/>
    <NavigationProperty Name="to_PhoneNumber" Relationship="API_BUSINESS_PARTNER.assoc_Address_Phone" FromRole="FromRole_assoc_Address_Phone" ToRole="ToRole_assoc_Address_Phone"/>
   </EntityType>
   <EntityType Name="A_AddressEmailAddressType" sap:content-version="1">
    <Key><PropertyRef Name="AddressID"/><PropertyRef Name="Person"/><PropertyRef Name="OrdinalNumber"/></Key>
    <Property Name="AddressID" Type="Edm.String" Nullable="false" MaxLength="10"/>
    <Property Name="Person" Type="Edm.String" Nullable="false" MaxLength="10"/>
    <Property Name="OrdinalNumber" Type="Edm.String" Nullable="false" MaxLength="3"/>
    <Property Name="EmailAddress" Type="Edm.String" MaxLength="241"/>
   </EntityType>
   <EntityType Name="A_AddressFaxNumberType" sap:content-version="1">
    <Key><PropertyRef Name="AddressID"/><PropertyRef Name="Person"/><PropertyRef Name="OrdinalNumber"/></Key>
    <Property Name="AddressID" Type="Edm.String" Nullable="false" MaxLength="10"/>
    <Property Name="Person" Type="Edm.String" Nullable="false" MaxLength="10"/>
    <Property Name="OrdinalNumber" Type="Edm.String" Nullable="false" MaxLength="3"/>
    <Property Name="FaxNumber" Type="Edm.String" MaxLength="30"/>
   </EntityType>
   <EntityType Name="A_AddressPhoneNumberType" sap:content-version="1">
    <Key><PropertyRef Name="AddressID"/><PropertyRef Name="Person"/><PropertyRef Name="OrdinalNumber"/></Key>
    <Property Name="AddressID" Type="Edm.String" Nullable="false" MaxLength="10"/>
    <Property Name="Person" Type="Edm.String" Nullable="false" MaxLength="10"/>
    <Property Name="OrdinalNumber" Type="Edm.String" Nullable="false" MaxLength="3"/>
    <Property Name="PhoneNumber" Type="Edm.String" MaxLength="30"/>
   </EntityType>
   <EntityType Name="A_BusinessPartnerRoleType" sap:content-version="1">
    <Key><PropertyRef Name="BusinessPartner"/><PropertyRef Name="BusinessPartnerRole"/></Key>
    <Property Name="BusinessPartner" Type="Edm.String" Nullable="false" MaxLength="10" sap:display-format="UpperCase"/>
    <Property Name="BusinessPartnerRole" Type="Edm.String" Nullable="false" MaxLength="6" sap:display-format="UpperCase"/>
   </EntityType>
   <EntityType Name="A_CustomerType" sap:content-version="1">
    <Key><PropertyRef Name="Customer"/></Key>
    <Property Name="Customer" Type="Edm.String" Nullable="false" MaxLength="10" sap:display-format="UpperCase"/>
    <Property Name="CustomerAccountGroup" Type="Edm.String" MaxLength="4" sap:display-format="UpperCase"/>
    <NavigationProperty Name="to_CustomerCompany" Relationship="API_BUSINESS_PARTNER.assoc_Customer_Company" FromRole="FromRole_assoc_Customer_Company" ToRole="ToRole_assoc_Customer_Company"/>
    <NavigationProperty Name="to_CustomerSalesArea" Relationship="API_BUSINESS_PARTNER.assoc_Customer_SalesArea" FromRole="FromRole_assoc_Customer_SalesArea" ToRole="ToRole_assoc_Customer_SalesArea"/>
   </EntityType>
   <EntityType Name="A_CustomerCompanyType" sap:content-version="1">
    <Key><PropertyRef Name="Customer"/><PropertyRef Name="CompanyCode"/></Key>
    <Property Name="Customer" Type="Edm.String" Nullable="false" MaxLength="10" sap:display-format="UpperCase"/>
    <Property Name="CompanyCode" Type="Edm.String" Nullable="false" MaxLength="4" sap:display-format="UpperCase"/>
    <Property Name="PaymentTerms" Type="Edm.String" MaxLength="4" sap:display-format="UpperCase"/>
    <Property Name="ReconciliationAccount" Type="Edm.String" MaxLength="10" sap:display-format="UpperCase"/>
   </EntityType>
   <EntityType Name="A_CustomerSalesAreaType" sap:content-version="1">
    <Key><PropertyRef Name="Customer"/><PropertyRef Name="SalesOrganization"/><PropertyRef Name="DistributionChannel"/><PropertyRef Name="Division"/></Key>
    <Property Name="Customer" Type="Edm.String" Nullable="false" MaxLength="10" sap:display-format="UpperCase"/>
    <Property Name="SalesOrganization" Type="Edm.String" Nullable="false" MaxLength="4" sap:display-format="UpperCase"/>
    <Property Name="DistributionChannel" Type="Edm.String" Nullable="false" MaxLength="2" sap:display-format="UpperCase"/>
    <Property Name="Division" Type="Edm.String" Nullable="false" MaxLength="2" sap:display-format="UpperCase"/>
    <Property Name="Currency" Type="Edm.String" MaxLength="5" sap:semantics="currency-code"/>
    <Property Name="CustomerGroup" Type="Edm.String" MaxLength="2" sap:display-format="UpperCase"/>
    <Property Name="CustomerPaymentTerms" Type="Edm.String" MaxLength="4" sap:display-format="UpperCase"/>
   </EntityType>
   <Association Name="assoc_Partner_Address">
    <End Type="API_BUSINESS_PARTNER.A_BusinessPartnerType" Multiplicity="1" Role="FromRole_assoc_Partner_Address"/>
    <End Type="API_BUSINESS_PARTNER.A_BusinessPartnerAddressType" Multiplicity="*" Role="ToRole_assoc_Partner_Address"/>
   </Association>
   <Association Name="assoc_Partner_Role">
    <End Type="API_BUSINESS_PARTNER.A_BusinessPartnerType" Multiplicity="1" Role="FromRole_assoc_Partner_Role"/>
    <End Type="API_BUSINESS_PARTNER.A_BusinessPartnerRoleType" Multiplicity="*" Role="ToRole_assoc_Partner_Role"/>
   </Association>
   <Association Name="assoc_Partner_Customer">
    <End Type="API_BUSINESS_PARTNER.A_BusinessPartnerType" Multiplicity="1" Role="FromRole_assoc_Partner_Customer"/>
    <End Type="API_BUSINESS_PARTNER.A_CustomerType" Multiplicity="0..1" Role="ToRole_assoc_Partner_Customer"/>
   </Association>
   <Association Name="assoc_Address_Email">
    <End Type="API_BUSINESS_PARTNER.A_BusinessPartnerAddressType" Multiplicity="1" Role="FromRole_assoc_Address_Email"/>
    <End Type="API_BUSINESS_PARTNER.A_AddressEmailAddressType" Multiplicity="*" Role="ToRole_assoc_Address_Email"/>
   </Association>
   <Association Name="assoc_Address_Fax">
    <End Type="API_BUSINESS_PARTNER.A_BusinessPartnerAddressType" Multiplicity="1" Role="FromRole_assoc_Address_Fax"/>
    <End Type="API_BUSINESS_PARTNER.A_AddressFaxNumberType" Multiplicity="*" Role="ToRole_assoc_Address_Fax"/>
   </Association>
   <Association Name="assoc_Address_Phone">
    <End Type="API_BUSINESS_PARTNER.A_BusinessPartnerAddressType" Multiplicity="1" Role="FromRole_assoc_Address_Phone"/>
    <End Type="API_BUSINESS_PARTNER.A_AddressPhoneNumberType" Multiplicity="*" Role="ToRole_assoc_Address_Phone"/>
   </Association>
   <Association Name="assoc_Customer_Company">
    <End Type="API_BUSINESS_PARTNER.A_CustomerType" Multiplicity="1" Role="FromRole_assoc_Customer_Company"/>
    <End Type="API_BUSINESS_PARTNER.A_CustomerCompanyType" Multiplicity="*" Role="ToRole_assoc_Customer_Company"/>
   </Association>
   <Association Name="assoc_Customer_SalesArea">
    <End Type="API_BUSINESS_PARTNER.A_CustomerType" Multiplicity="1" Role="FromRole_assoc_Customer_SalesArea"/>
    <End Type="API_BUSINESS_PARTNER.A_CustomerSalesAreaType" Multiplicity="*" Role="ToRole_assoc_Customer_SalesArea"/>
   </Association>
   <EntityContainer Name="API_BUSINESS_PARTNER_Entities" m:IsDefaultEntityContainer="true" sap:supported-formats="atom json">
    <EntitySet Name="A_BusinessPartner" EntityType="API_BUSINESS_PARTNER.A_BusinessPartnerType" sap:deletable="false" sap:content-version="1"/>
    <EntitySet Name="A_BusinessPartnerAddress" EntityType="API_BUSINESS_PARTNER.A_BusinessPartnerAddressType" sap:content-version="1"/>
    <EntitySet Name="A_AddressEmailAddress" EntityType="API_BUSINESS_PARTNER.A_AddressEmailAddressType" sap:content-version="1"/>
    <EntitySet Name="A_AddressFaxNumber" EntityType="API_BUSINESS_PARTNER.A_AddressFaxNumberType" sap:content-version="1"/>
    <EntitySet Name="A_AddressPhoneNumber" EntityType="API_BUSINESS_PARTNER.A_AddressPhoneNumberType" sap:content-version="1"/>
    <EntitySet Name="A_BusinessPartnerRole" EntityType="API_BUSINESS_PARTNER.A_BusinessPartnerRoleType" sap:content-version="1"/>
    <EntitySet Name="A_Customer" EntityType="API_BUSINESS_PARTNER.A_CustomerType" sap:creatable="false" sap:deletable="false" sap:content-version="1"/>
    <EntitySet Name="A_CustomerCompany" EntityType="API_BUSINESS_PARTNER.A_CustomerCompanyType" sap:content-version="1"/>
    <EntitySet Name="A_CustomerSalesArea" EntityType="API_BUSINESS_PARTNER.A_CustomerSalesAreaType" sap:deletable="false" sap:content-version="1"/>
    <AssociationSet Name="assoc_Partner_Address_set" Association="API_BUSINESS_PARTNER.assoc_Partner_Address">
     <End EntitySet="A_BusinessPartner" Role="FromRole_assoc_Partner_Address"/>
     <End EntitySet="A_BusinessPartnerAddress" Role="ToRole_assoc_Partner_Address"/>
    </AssociationSet>
    <AssociationSet Name="assoc_Partner_Role_set" Association="API_BUSINESS_PARTNER.assoc_Partner_Role">
     <End EntitySet="A_BusinessPartner" Role="FromRole_assoc_Partner_Role"/>
     <End EntitySet="A_BusinessPartnerRole" Role="ToRole_assoc_Partner_Role"/>
    </AssociationSet>
    <AssociationSet Name="assoc_Partner_Customer_set" Association="API_BUSINESS_PARTNER.assoc_Partner_Customer">
     <End EntitySet="A_BusinessPartner" Role="FromRole_assoc_Partner_Customer"/>
     <End EntitySet="A_Customer" Role="ToRole_assoc_Partner_Customer"/>
    </AssociationSet>
    <AssociationSet Name="assoc_Address_Email_set" Association="API_BUSINESS_PARTNER.assoc_Address_Email">
     <End EntitySet="A_BusinessPartnerAddress" Role="FromRole_assoc_Address_Email"/>
     <End EntitySet="A_AddressEmailAddress" Role="ToRole_assoc_Address_Email"/>
    </AssociationSet>
    <AssociationSet Name="assoc_Address_Fax_set" Association="API_BUSINESS_PARTNER.assoc_Address_Fax">
     <End EntitySet="A_BusinessPartnerAddress" Role="FromRole_assoc_Address_Fax"/>
     <End EntitySet="A_AddressFaxNumber" Role="ToRole_assoc_Address_Fax"/>
    </AssociationSet>
    <AssociationSet Name="assoc_Address_Phone_set" Association="API_BUSINESS_PARTNER.assoc_Address_Phone">
     <End EntitySet="A_BusinessPartnerAddress" Role="FromRole_assoc_Address_Phone"/>
     <End EntitySet="A_AddressPhoneNumber" Role="ToRole_assoc_Address_Phone"/>
    </AssociationSet>
    <AssociationSet Name="assoc_Customer_Company_set" Association="API_BUSINESS_PARTNER.assoc_Customer_Company">
     <End EntitySet="A_Customer" Role="FromRole_assoc_Customer_Company"/>
     <End EntitySet="A_CustomerCompany" Role="ToRole_assoc_Customer_Company"/>
    </AssociationSet>
    <AssociationSet Name="assoc_Customer_SalesArea_set" Association="API_BUSINESS_PARTNER.assoc_Customer_SalesArea">
     <End EntitySet="A_Customer" Role="FromRole_assoc_Customer_SalesArea"/>
     <End EntitySet="A_CustomerSalesArea" Role="ToRole_assoc_Customer_SalesArea"/>
    </AssociationSet>
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>
`
